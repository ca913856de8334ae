// Every run, newest first: filter by job, status, a range of scheduled times and text in the
// log, error and result (the API's ``q``); filters kept in the address; cursor pagination;
// live refresh of the first page.
import { useRef, useState } from "preact/hooks";
import { api } from "../api";
import { Empty, ErrorBox, LoadMore, Raw, statusLabel, value } from "../components/ui";
import { formatTime, localInputToIso } from "../format";
import { useDebounced, useMarkOnce, usePoll } from "../hooks";
import { useI18n } from "../i18n";
import { setQuery, useLocation } from "../router";
import { RUN_STATUSES } from "../types";
import type { Page, Run } from "../types";
import { RunTable } from "./JobDetail";

const PAGE = 50;
const TIME_EXAMPLE = "2026-01-31 08:00";

/** An ISO instant as the filter shows it: YYYY-MM-DD HH:MM in ``zone``. */
function toInput(iso: string | null, zone: string): string {
  if (!iso) return "";
  return formatTime(iso, "en", zone).slice(0, 16);
}

export function RunsPage() {
  const { t, zone } = useI18n();
  const { query } = useLocation();
  const [job, setJob] = useState(query.get("job") ?? "");
  const [status, setStatus] = useState(query.get("status") ?? "");
  const [text, setText] = useState(query.get("q") ?? "");
  const [from, setFrom] = useState(toInput(query.get("since"), zone));
  const [to, setTo] = useState(toInput(query.get("until"), zone));
  const [runs, setRuns] = useState<Run[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const jobId = useDebounced(job.trim(), 300);
  const q = useDebounced(text.trim(), 400);
  // Typed as the console shows times (the browser's date pickers follow its own locale).
  const fromText = useDebounced(from.trim(), 400);
  const toText = useDebounced(to.trim(), 400);
  const since = fromText ? localInputToIso(fromText, zone) : null;
  const until = toText ? localInputToIso(toText, zone) : null;
  const badFrom = Boolean(fromText) && since === null;
  const badTo = Boolean(toText) && until === null;
  const filters = { job_id: jobId, status: status ? [status] : undefined, q, since, until };
  const key = JSON.stringify(filters);
  const loadedKey = useRef<string | null>(null);

  usePoll(
    async () => {
      const reset = loadedKey.current !== key;
      if (!reset && runs !== null && runs.length > PAGE) return; // paged further: no refresh
      try {
        setQuery({ job: jobId, status, q, since, until });
        const page = await api.get<Page<Run>>("/api/runs", { ...filters, limit: PAGE });
        loadedKey.current = key;
        setRuns(page.items);
        setCursor(page.next_cursor);
        setError(null);
      } catch (err) {
        setError(err);
      }
    },
    5000,
    [key],
  );
  useMarkOnce("tw:list-rendered", runs !== null);

  const more = async () => {
    if (!cursor) return;
    setBusy(true);
    try {
      const page = await api.get<Page<Run>>("/api/runs", { ...filters, limit: PAGE, cursor });
      setRuns((old) => [...(old ?? []), ...page.items]);
      setCursor(page.next_cursor);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const clear = () => {
    setJob("");
    setStatus("");
    setText("");
    setFrom("");
    setTo("");
  };
  const filtered = Boolean(job || status || text || from || to);

  return (
    <div class="page">
      <div class="page-head">
        <h1>{t("runs.title")}</h1>
      </div>
      <div class="filters runs-filters">
        <input
          type="search"
          placeholder={t("runs.search")}
          aria-label={t("runs.search")}
          value={text}
          onInput={(e) => setText(value(e))}
          name="q"
          class="grow"
        />
        <input placeholder={t("runs.jobId")} aria-label={t("runs.jobId")} value={job} onInput={(e) => setJob(value(e))} name="job" class="mono" />
        <select aria-label={t("runs.status")} value={status} onChange={(e) => setStatus(value(e))} name="status">
          <option value="">{t("runs.anyStatus")}</option>
          {RUN_STATUSES.map((s) => (
            <option value={s} key={s}>
              {statusLabel(t, s)}
            </option>
          ))}
        </select>
        <label class={badFrom ? "range invalid" : "range"}>
          <span>{t("runs.from")}</span>
          <input
            value={from}
            onInput={(e) => setFrom(value(e))}
            name="since"
            aria-label={t("runs.from")}
            placeholder={TIME_EXAMPLE}
            aria-invalid={badFrom}
            class="mono time-input"
            autoComplete="off"
          />
        </label>
        <label class={badTo ? "range invalid" : "range"}>
          <span>{t("runs.to")}</span>
          <input
            value={to}
            onInput={(e) => setTo(value(e))}
            name="until"
            aria-label={t("runs.to")}
            placeholder={TIME_EXAMPLE}
            aria-invalid={badTo}
            class="mono time-input"
            autoComplete="off"
          />
        </label>
        {filtered ? (
          <button type="button" class="link small" onClick={clear}>
            {t("runs.clear")}
          </button>
        ) : null}
      </div>
      {badFrom || badTo ? (
        <p class="field-error" role="alert">
          {t("runs.badTime", { example: TIME_EXAMPLE })}
        </p>
      ) : from || to ? (
        <p class="muted small">
          {t("runs.rangeHint")} <Raw>{zone}</Raw>
        </p>
      ) : null}
      {q ? <p class="muted small">{t("runs.searchWindow")}</p> : null}
      <ErrorBox error={error} />
      {runs === null ? null : runs.length === 0 ? <Empty>{t("runs.none")}</Empty> : <RunTable runs={runs} showJob />}
      {runs !== null ? <LoadMore cursor={cursor} busy={busy} onMore={more} shown={runs.length} /> : null}
    </div>
  );
}
