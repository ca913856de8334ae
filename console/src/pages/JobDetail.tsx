// One job: its definition, actions, success rate and durations, a duration chart of its
// recent runs, the runs (paged), and its audit history (paged).
import type { ComponentChildren } from "preact";
import { useMemo, useState } from "preact/hooks";
import type uPlot from "uplot";
import { JobActions } from "../actions";
import { api, enc } from "../api";
import { AuditRow } from "../components/Audit";
import { JobAlerts } from "../components/JobAlerts";
import { LazyChart as Chart } from "../components/LazyChart";
import { SIZE_JOBS, SizesCard } from "../components/Sizes";
import { Card, Dl, Empty, ErrorBox, Link, Loading, LoadMore, MissedFires, Raw, StateBadge, StatusBadge, Time } from "../components/ui";
import { concurrencyText, definedElsewhere, executorLabel, kindLabel, ownerText, reasonLabel } from "../describe";
import { clockTicks, duration, formatTime, offsetLabel, percent, shortDuration, TIME_INCRS } from "../format";
import { usePoll } from "../hooks";
import { useI18n } from "../i18n";
import { navigate } from "../router";
import type { AuditEvent, Job, Page, Run, Stats } from "../types";

export function JobDetailPage(props: { jobId: string }) {
  const { t, lang, zone } = useI18n();
  const id = props.jobId;
  const [job, setJob] = useState<Job | null>(null);
  const [stats, setStats] = useState<Stats | null>(null);
  const [runs, setRuns] = useState<Run[] | null>(null);
  const [runsCursor, setRunsCursor] = useState<string | null>(null);
  const [chartRuns, setChartRuns] = useState<Run[]>([]);
  const [history, setHistory] = useState<AuditEvent[] | null>(null);
  const [historyCursor, setHistoryCursor] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  usePoll(async () => {
    try {
      const extended = runs !== null && runs.length > 20;
      const [j, s, recent, first] = await Promise.all([
        api.get<Job>(`/api/jobs/${enc(id)}`),
        api.get<Stats>(`/api/jobs/${enc(id)}/stats`),
        api.get<Page<Run>>("/api/runs", { job_id: id, limit: 100 }),
        extended ? Promise.resolve(null) : api.get<Page<Run>>("/api/runs", { job_id: id, limit: 20 }),
      ]);
      setJob(j);
      setStats(s);
      setChartRuns(recent.items);
      if (first) {
        setRuns(first.items);
        setRunsCursor(first.next_cursor);
      }
      setError(null);
    } catch (err) {
      setError(err);
    }
  }, 5000);

  usePoll(async () => {
    if (history !== null && history.length > 20) return;
    const page = await api.get<Page<AuditEvent>>(`/api/jobs/${enc(id)}/history`, { limit: 20 });
    setHistory(page.items);
    setHistoryCursor(page.next_cursor);
  }, 15000);

  const moreRuns = async () => {
    if (!runsCursor) return;
    setBusy(true);
    try {
      const page = await api.get<Page<Run>>("/api/runs", { job_id: id, limit: 50, cursor: runsCursor });
      setRuns([...(runs ?? []), ...page.items]);
      setRunsCursor(page.next_cursor);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const moreHistory = async () => {
    if (!historyCursor) return;
    setBusy(true);
    try {
      const page = await api.get<Page<AuditEvent>>(`/api/jobs/${enc(id)}/history`, { limit: 50, cursor: historyCursor });
      setHistory([...(history ?? []), ...page.items]);
      setHistoryCursor(page.next_cursor);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const chartOptions = useMemo<Omit<uPlot.Options, "width" | "height">>(
    () => ({
      legend: { show: false },
      cursor: { drag: { x: false, y: false } },
      scales: {
        x: { time: true, range: (_u: uPlot, min: number, max: number): uPlot.Range.MinMax => (max - min < 60 ? [min - 60, max + 60] : [min, max]) },
        y: { range: (_u: uPlot, _min: number, max: number): uPlot.Range.MinMax => [0, max > 0 ? max * 1.15 : 1] },
      },
      // Labels are HH:MM:SS at the finest: whole-second ticks, far enough apart not to touch.
      axes: [
        { space: 90, incrs: TIME_INCRS, values: (_u: uPlot, ticks: number[]) => clockTicks(ticks, zone) },
        { size: 70, values: (_u: uPlot, ticks: number[]) => ticks.map((v) => shortDuration(v, lang)) },
      ],
      series: [{ label: t("chart.time"), value: (_u: uPlot, ts: number | null) => (ts == null ? "–" : formatTime(new Date(ts * 1000).toISOString(), lang, zone)) }, { label: t("runs.duration"), stroke: "#1f5fbf", width: 1.5, points: { show: true, size: 4 } }],
      tzDate: (ts: number) => new Date(ts * 1000),
    }),
    [lang, zone],
  );
  const chartData = useMemo<uPlot.AlignedData>(() => {
    const done = chartRuns.filter((r) => r.duration_s !== null && r.started_at).reverse();
    return [done.map((r) => new Date(r.started_at ?? r.scheduled_for).getTime() / 1000), done.map((r) => r.duration_s)];
  }, [chartRuns]);

  if (error && !job) return <div class="page"><ErrorBox error={error} /></div>;
  if (!job) return <Loading />;
  const total = stats?.total;
  const description = lang === "zh-CN" ? job.trigger.description.zh : job.trigger.description.en;
  const p = job.policies;

  return (
    <div class="page">
      <div class="page-head">
        <div>
          <div class="crumbs">
            <Link href="/jobs">{t("nav.jobs")}</Link> /
          </div>
          <h1 class="job-title">
            <Raw class="job-title-name">{job.name}</Raw> <StateBadge state={job.state} />
            <OwnerBadge job={job} />
          </h1>
          <Raw class="muted mono small job-id">{job.id}</Raw>
        </div>
        <JobActions
          job={job}
          onChanged={(j) => (j ? setJob(j) : navigate("/jobs"))}
          onError={setActionError}
        />
      </div>
      <ErrorBox error={error} />
      {actionError ? <div class="alert error">{actionError}</div> : null}
      <div class="grid-2">
        <Card title={t("job.definition")}>
          <Dl
            items={[
              [t("kinds.kind"), <span data-testid="target-kind">{targetDescription(job, lang)}</span>],
              ...(job.target.kind === "python" ? ([[t("editor.target"), <code>{job.target.ref}</code>]] as [string, ComponentChildren][]) : [[t("kinds.spec"), <TargetSpec job={job} />] as [string, ComponentChildren]]),
              [t("jobs.schedule"), <span>{description}{job.trigger.expr ? <code class="expr">{job.trigger.expr}</code> : null}</span>],
              [t("editor.timezone"), <Raw>{job.timezone}</Raw>],
              [t("jobs.nextRun"), <Time iso={job.next_fire_at} zone={job.timezone} rel />],
              [t("editor.group"), <Raw>{job.group}</Raw>],
              [t("editor.tags"), job.tags.length ? <Raw>{job.tags.join(", ")}</Raw> : ""],
              [t("editor.args"), job.target.args?.length ? <code>{JSON.stringify(job.target.args)}</code> : ""],
              [t("editor.kwargs"), job.target.kwargs && Object.keys(job.target.kwargs).length ? <code>{JSON.stringify(job.target.kwargs)}</code> : ""],
              [t("editor.description"), job.description ? <Raw>{job.description}</Raw> : ""],
            ]}
          />
        </Card>
        <Card title={t("job.policies")}>
          <Dl
            items={[
              [t("editor.misfire"), `${t(`misfire.${p.misfire_policy as "run_once" | "run_all" | "skip"}`)}${p.misfire_grace_s !== null ? ` · ${t("editor.grace")} ${p.misfire_grace_s}` : ""}`],
              [t("editor.concurrency"), <span data-testid="concurrency">{concurrencyText(t, p)}</span>],
              [t("editor.timeout"), p.timeout_s !== null ? duration(p.timeout_s, lang) : t("job.noTimeout")],
              [t("editor.retries"), p.retries ? `${p.retries} · ${t("editor.backoff")} ${duration(p.retry_backoff_s, lang)}` : "0"],
              [t("editor.executor"), executorLabel(t, job.executor)],
              [t("job.owner"), <span data-testid="owner">{ownerText(t, job)}</span>],
              [t("job.created"), <span><Time iso={job.created_at} /> {job.created_by ? <Raw>· {job.created_by}</Raw> : ""}</span>],
              [t("job.updated"), <span><Time iso={job.updated_at} /> {job.updated_by ? <Raw>· {job.updated_by}</Raw> : ""} <Raw>· v{job.version}</Raw></span>],
            ]}
          />
        </Card>
      </div>
      <Card title={t("job.stats")}>
        {total ? (
          <div class="stat-row">
            <div class="stat"><span class="stat-n">{total.runs}</span><span class="stat-l">{t("stats.runs")}</span></div>
            <div class="stat"><span class="stat-n">{percent(total.success_rate)}</span><span class="stat-l">{t("stats.successRate")}</span></div>
            <div class="stat"><span class="stat-n">{duration(total.duration_avg_s, lang) || "–"}</span><span class="stat-l">{t("stats.avg")}</span></div>
            <div class="stat"><span class="stat-n">{duration(total.duration_p95_s, lang) || "–"}</span><span class="stat-l">p95</span></div>
            <div class="stat"><span class="stat-n">{duration(total.duration_max_s, lang) || "–"}</span><span class="stat-l">{t("stats.max")}</span></div>
            <div class="stat"><span class="stat-n">{(total.by_status.failed ?? 0) + (total.by_status.timed_out ?? 0) + (total.by_status.lost ?? 0)}</span><span class="stat-l">{t("dash.failures")}</span></div>
          </div>
        ) : (
          <Loading />
        )}
        <h3 class="sub">
          {t("job.durationChart")}{" "}
          <span class="tz" translate={false}>
            {offsetLabel(new Date().toISOString(), zone)}
          </span>
        </h3>
        {chartData[0].length > 1 ? <Chart options={chartOptions} data={chartData} height={160} label={t("job.durationChart")} /> : <Empty>{t("job.fewRuns")}</Empty>}
      </Card>
      {job.target.kind === "builtin" && SIZE_JOBS.has(String((job.target as unknown as Record<string, unknown>).name)) ? <SizesCard jobId={job.id} /> : null}
      <Card title={t("job.runs")} actions={<Link href={`/runs?job=${enc(job.id)}`}>{t("job.allRuns")}</Link>}>
        {runs === null ? <Loading /> : runs.length === 0 ? <Empty>{t("runs.none")}</Empty> : <RunTable runs={runs} />}
        {runs && runs.length ? <LoadMore cursor={runsCursor} busy={busy} onMore={moreRuns} shown={runs.length} /> : null}
      </Card>
      <JobAlerts jobId={job.id} />
      <Card title={t("job.history")}>
        {history === null ? (
          <Loading />
        ) : history.length === 0 ? (
          <Empty>{t("audit.none")}</Empty>
        ) : (
          <table class="table compact">
            <thead>
              <tr>
                <th>{t("audit.at")}</th>
                <th>{t("audit.actor")}</th>
                <th>{t("audit.action")}</th>
                <th />
                <th />
              </tr>
            </thead>
            <tbody>
              {history.map((e) => (
                <AuditRow event={e} key={e.id} />
              ))}
            </tbody>
          </table>
        )}
        {history && history.length ? <LoadMore cursor={historyCursor} busy={busy} onMore={moreHistory} shown={history.length} /> : null}
      </Card>
    </div>
  );
}

export function RunTable(props: { runs: Run[]; showJob?: boolean }) {
  const { t, lang } = useI18n();
  return (
    <table class="table compact runs-table" data-testid="runs-table">
      <thead>
        <tr>
          <th>{t("runs.run")}</th>
          {props.showJob ? <th>{t("jobs.job")}</th> : null}
          <th>{t("runs.status")}</th>
          <th>{t("runs.scheduledFor")}</th>
          <th>{t("runs.started")}</th>
          <th class="right">{t("runs.duration")}</th>
          <th>{t("runs.reason")}</th>
          <th>{t("runs.node")}</th>
        </tr>
      </thead>
      <tbody>
        {props.runs.map((r) => (
          <tr key={r.id}>
            <td>
              <Link href={`/runs/${r.id}`}>#{r.id}</Link>
              {r.attempt > 1 ? <span class="muted small"> ({t("runs.attempt", { n: r.attempt })})</span> : null}
            </td>
            {props.showJob ? (
              <td>
                <Link href={`/jobs/${enc(r.job_id)}`} class="job-link">
                  <Raw>{r.job_id}</Raw>
                </Link>
              </td>
            ) : null}
            <td>
              <StatusBadge status={r.status} />
            </td>
            <td class="nowrap">
              <Time iso={r.scheduled_for} />
              {r.fires > 1 ? (
                <div class="muted small">
                  <MissedFires run={r} />
                </div>
              ) : null}
            </td>
            <td class="nowrap">
              <Time iso={r.started_at} />
            </td>
            <td class="right nowrap">{duration(r.duration_s, lang)}</td>
            <td>{reasonLabel(t, r.reason)}</td>
            <td class="muted small">
              <Raw>{r.node_id}</Raw>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** "defined in jobs.yaml" / "defined in code" beside a job a file or code owns. */
export function OwnerBadge(props: { job: Job }) {
  const { t } = useI18n();
  const job = props.job;
  if (!definedElsewhere(job)) return null;
  // The file's name (its whole path, or a Python reference, in the title and on the job page).
  const ref = job.owner_ref ?? "";
  const file = ref.includes("/") ? ref.slice(ref.lastIndexOf("/") + 1) : ref;
  const text = job.owner === "config" ? t("owner.configBadge", { ref: file }) : job.owner === "builtin" ? t("owner.builtinBadge") : t("owner.codeBadge");
  return (
    <span class="badge owner-badge" title={ownerText(t, job)} data-testid="owner-badge">
      {text}
    </span>
  );
}

/** The job's kind in words and the kind's one-line description of what it runs (issue 17). */
function targetDescription(job: Job, lang: string) {
  return <TargetKindText job={job} lang={lang} />;
}

function TargetKindText(props: { job: Job; lang: string }) {
  const { t } = useI18n();
  const target = props.job.target;
  const description = target.description ? (props.lang === "zh-CN" ? target.description.zh : target.description.en) : "";
  return (
    <span>
      {kindLabel(t, target.kind)}
      {description && target.kind !== "python" ? (
        <>
          {" "}
          <code class="kind-description" data-testid="kind-description">{description}</code>
        </>
      ) : null}
    </span>
  );
}

/** A non-Python target's spec as the API keeps it (JSON: it is what a job file or the API takes). */
function TargetSpec(props: { job: Job }) {
  const { kind: _kind, description: _description, ...spec } = props.job.target;
  return <pre class="box small" data-testid="target-spec">{JSON.stringify(spec, null, 2)}</pre>;
}
