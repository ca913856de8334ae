// Every run, newest first: filter by job and status, cursor pagination, live refresh of the
// first page.
import { useRef, useState } from "preact/hooks";
import { api } from "../api";
import { Empty, ErrorBox, LoadMore, statusLabel, value } from "../components/ui";
import { useDebounced, useMarkOnce, usePoll } from "../hooks";
import { useI18n } from "../i18n";
import { setQuery, useLocation } from "../router";
import { RUN_STATUSES } from "../types";
import type { Page, Run } from "../types";
import { RunTable } from "./JobDetail";

const PAGE = 50;

export function RunsPage() {
  const { t } = useI18n();
  const { query } = useLocation();
  const [job, setJob] = useState(query.get("job") ?? "");
  const [status, setStatus] = useState(query.get("status") ?? "");
  const [runs, setRuns] = useState<Run[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const jobId = useDebounced(job.trim(), 300);
  const key = `${jobId}|${status}`;
  const loadedKey = useRef<string | null>(null);

  usePoll(
    async () => {
      const reset = loadedKey.current !== key;
      if (!reset && runs !== null && runs.length > PAGE) return; // paged further: no refresh
      try {
        setQuery({ job: jobId, status });
        const page = await api.get<Page<Run>>("/api/runs", { job_id: jobId, status: status ? [status] : undefined, limit: PAGE });
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
      const page = await api.get<Page<Run>>("/api/runs", { job_id: jobId, status: status ? [status] : undefined, limit: PAGE, cursor });
      setRuns((old) => [...(old ?? []), ...page.items]);
      setCursor(page.next_cursor);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="page">
      <div class="page-head">
        <h1>{t("runs.title")}</h1>
      </div>
      <div class="filters">
        <input placeholder={t("runs.jobId")} aria-label={t("runs.jobId")} value={job} onInput={(e) => setJob(value(e))} name="job" class="mono" />
        <select aria-label={t("runs.status")} value={status} onChange={(e) => setStatus(value(e))} name="status">
          <option value="">{t("runs.anyStatus")}</option>
          {RUN_STATUSES.map((s) => (
            <option value={s} key={s}>
              {statusLabel(t, s)}
            </option>
          ))}
        </select>
      </div>
      <ErrorBox error={error} />
      {runs === null ? null : runs.length === 0 ? <Empty>{t("runs.none")}</Empty> : <RunTable runs={runs} showJob />}
      {runs !== null ? <LoadMore cursor={cursor} busy={busy} onMore={more} shown={runs.length} /> : null}
    </div>
  );
}
