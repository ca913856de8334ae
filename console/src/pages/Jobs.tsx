// The jobs list: search, filters and sort order (kept in the URL; the API sorts, so the order
// holds across pages), status, next run, last result, actions per job, pause/resume of a
// whole group, cursor pagination, live refresh.
import { useMemo, useRef, useState } from "preact/hooks";
import { JobActions } from "../actions";
import { api, enc } from "../api";
import { Empty, ErrorBox, Link, LoadMore, Raw, StateBadge, StatusBadge, Time, value } from "../components/ui";
import { duration } from "../format";
import { useDebounced, useMarkOnce, usePoll } from "../hooks";
import { useI18n } from "../i18n";
import { setQuery, useLocation } from "../router";
import { GroupActions } from "../components/GroupActions";
import { covers, highest, useCan, useSession } from "../session";
import type { Job, JobState, Page } from "../types";
import { OwnerBadge } from "./JobDetail";

type SortKey = "id" | "name" | "group" | "next_fire_at";
const SORT_KEYS: SortKey[] = ["id", "name", "group", "next_fire_at"];

function parseSort(raw: string | null): { key: SortKey; desc: boolean } {
  const desc = raw?.startsWith("-") ?? false;
  const key = (raw ?? "id").replace(/^-/, "") as SortKey;
  return SORT_KEYS.includes(key) ? { key, desc } : { key: "id", desc: false };
}
const PAGE = 50;

export function JobsPage() {
  const { t, lang } = useI18n();
  const can = useCan();
  const session = useSession();
  const { query } = useLocation();
  const [text, setText] = useState(query.get("q") ?? "");
  const [group, setGroup] = useState(query.get("group") ?? "");
  const [tag, setTag] = useState(query.get("tag") ?? "");
  const [state, setState] = useState<JobState | "">((query.get("state") as JobState | null) ?? "");
  const [sort, setSort] = useState(parseSort(query.get("sort")));
  const [jobs, setJobs] = useState<Job[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);

  const q = useDebounced(text.trim(), 250);
  const g = useDebounced(group.trim(), 250);
  const tg = useDebounced(tag.trim(), 250);
  const order = `${sort.desc ? "-" : ""}${sort.key}`;
  const filters = { text: q, group: g, tag: tg, state, sort: order };
  const key = JSON.stringify(filters);

  // The first load and every refresh ask for as many rows as are shown, from the start.
  const load = async (reset: boolean) => {
    setQuery({ q, group: g, tag: tg, state, sort: order === "id" ? null : order });
    const limit = reset ? PAGE : Math.min(500, Math.max(PAGE, jobs?.length ?? 0));
    const page = await api.get<Page<Job>>("/api/jobs", { ...filters, limit });
    setJobs(page.items);
    setCursor(page.next_cursor);
    setError(null);
  };

  const loadedKey = useRef<string | null>(null);
  usePoll(
    async () => {
      try {
        const reset = loadedKey.current !== key;
        loadedKey.current = key;
        await load(reset);
      } catch (err) {
        setError(err);
      }
    },
    10000,
    [key],
  );

  const more = async () => {
    if (!cursor) return;
    setBusy(true);
    try {
      const page = await api.get<Page<Job>>("/api/jobs", { ...filters, cursor, limit: PAGE });
      setJobs((old) => [...(old ?? []), ...page.items]);
      setCursor(page.next_cursor);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const groups = useMemo(() => [...new Set((jobs ?? []).map((j) => j.group))].sort(), [jobs]);
  useMarkOnce("tw:list-rendered", jobs !== null);

  const header = (k: SortKey, label: string) => (
    <th class="sortable" aria-sort={sort.key === k ? (sort.desc ? "descending" : "ascending") : "none"}>
      <button type="button" class="link" onClick={() => setSort({ key: k, desc: sort.key === k ? !sort.desc : false })}>
        {label}
        {sort.key === k ? (sort.desc ? " ▼" : " ▲") : ""}
      </button>
    </th>
  );

  const changed = (id: string, job: Job | null) => {
    setJobs((old) => (old ?? []).flatMap((j) => (j.id === id ? (job ? [job] : []) : [j])));
  };

  return (
    <div class="page">
      <div class="page-head">
        <h1>{t("jobs.title")}</h1>
        {covers(highest(session), "admin") ? (
          <Link href="/jobs/new" class="button primary">
            {t("jobs.new")}
          </Link>
        ) : null}
      </div>
      <div class="filters">
        <input
          type="search"
          placeholder={t("jobs.search")}
          aria-label={t("jobs.search")}
          value={text}
          onInput={(e) => setText(value(e))}
          class="grow"
          name="q"
        />
        <input
          list="tw-groups"
          placeholder={t("jobs.group")}
          aria-label={t("jobs.group")}
          value={group}
          onInput={(e) => setGroup(value(e))}
          name="group"
        />
        <datalist id="tw-groups">
          {groups.map((x) => (
            <option value={x} key={x} />
          ))}
        </datalist>
        <input placeholder={t("jobs.tag")} aria-label={t("jobs.tag")} value={tag} onInput={(e) => setTag(value(e))} name="tag" />
        <select aria-label={t("jobs.state")} value={state} onChange={(e) => setState(value(e) as JobState | "")} name="state">
          <option value="">{t("jobs.anyState")}</option>
          <option value="scheduled">{t("state.scheduled")}</option>
          <option value="paused">{t("state.paused")}</option>
          <option value="completed">{t("state.completed")}</option>
        </select>
      </div>
      {g && can("operator", g) ? (
        <div class="group-bar">
          <span>{t("jobs.groupBar", { group: g })}</span>
          <GroupActions
            group={g}
            onDone={(message) => {
              setNotice(message);
              void load(false);
            }}
          />
          <Link href={`/groups/${enc(g)}`} class="small">
            {t("groups.title")} →
          </Link>
        </div>
      ) : null}
      {notice ? (
        <div class="alert info" role="status">
          {notice}
        </div>
      ) : null}
      <ErrorBox error={error} />
      {actionError ? (
        <div class="alert error" role="alert">
          {actionError}
        </div>
      ) : null}
      {jobs === null ? null : jobs.length === 0 ? (
        <Empty>{t("jobs.none")}</Empty>
      ) : (
        <table class="table jobs-table" data-testid="jobs-table">
          <thead>
            <tr>
              {header("name", t("jobs.job"))}
              {header("group", t("jobs.group"))}
              <th>{t("jobs.schedule")}</th>
              <th>{t("jobs.state")}</th>
              {header("next_fire_at", t("jobs.nextRun"))}
              <th>{t("jobs.lastResult")}</th>
              <th class="right">{t("jobs.actions")}</th>
            </tr>
          </thead>
          <tbody>
            {jobs.map((job) => (
              <tr key={job.id} data-job={job.id}>
                <td class="name-cell">
                  <Link href={`/jobs/${enc(job.id)}`} class="job-name">
                    <Raw>{job.name}</Raw>
                  </Link>
                  <Raw class="muted small mono job-id">{job.id}</Raw>
                  <OwnerBadge job={job} />
                </td>
                <td>
                  <Raw>{job.group}</Raw>
                  {job.tags.length ? (
                    <div class="tags">
                      {job.tags.map((x) => (
                        <Raw class="tag" key={x}>
                          {x}
                        </Raw>
                      ))}
                    </div>
                  ) : null}
                </td>
                <td class="schedule">{lang === "zh-CN" ? job.trigger.description.zh : job.trigger.description.en}</td>
                <td>
                  <StateBadge state={job.state} />
                </td>
                <td class="nowrap">
                  <Time iso={job.next_fire_at} zone={job.timezone} />
                </td>
                <td class="nowrap">
                  {job.last_run ? (
                    <Link href={`/runs/${job.last_run.id}`}>
                      <StatusBadge status={job.last_run.status} />{" "}
                      <span class="muted small">{duration(job.last_run.duration_s, lang)}</span>
                    </Link>
                  ) : (
                    <span class="muted">–</span>
                  )}
                </td>
                <td class="right">
                  <JobActions job={job} compact onChanged={(j) => changed(job.id, j)} onError={setActionError} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {jobs !== null ? <LoadMore cursor={cursor} busy={busy} onMore={more} shown={jobs.length} /> : null}
    </div>
  );
}
