// Jobs by state, the scheduler and its nodes, runs and failures per hour over 24 h, the next
// executions, the slowest and the most failing jobs. Refreshes itself.
import { useMemo, useState } from "preact/hooks";
import type uPlot from "uplot";
import { api, enc } from "../api";
import { LazyChart as Chart } from "../components/LazyChart";
import { Card, Confirm, Empty, ErrorBox, Link, Loading, Raw, StatusBadge, Time } from "../components/ui";
import { nodeRoles } from "../describe";
import { age, clockTicks, duration, formatTime, offsetLabel, percent, TIME_INCRS } from "../format";
import { usePoll } from "../hooks";
import { useI18n } from "../i18n";
import { useCan } from "../session";
import type { Job, Page, RunStats, SchedulerStatus, Stats, Timeline } from "../types";

function failures(s: RunStats): number {
  return (s.by_status.failed ?? 0) + (s.by_status.timed_out ?? 0) + (s.by_status.lost ?? 0);
}

export function DashboardPage() {
  const { t, lang, zone } = useI18n();
  const can = useCan();
  const [sched, setSched] = useState<SchedulerStatus | null>(null);
  const [upcoming, setUpcoming] = useState<Job[] | null>(null);
  const [timeline, setTimeline] = useState<Timeline | null>(null);
  const [stats, setStats] = useState<Stats | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [confirm, setConfirm] = useState<"pause" | "resume" | null>(null);
  const [busy, setBusy] = useState(false);

  usePoll(async () => {
    try {
      const [s, u] = await Promise.all([
        api.get<SchedulerStatus>("/api/scheduler"),
        api.get<Page<Job>>("/api/overview/upcoming", { limit: 8 }),
      ]);
      setSched(s);
      setUpcoming(u.items);
      setError(null);
    } catch (err) {
      setError(err);
    }
  }, 5000);

  usePoll(async () => {
    const since = new Date(Date.now() - 24 * 3600 * 1000).toISOString();
    const [line, st] = await Promise.all([
      api.get<Timeline>("/api/overview/timeline", { hours: 24 }),
      api.get<Stats>("/api/stats", { since, slow_s: 10 }),
    ]);
    setTimeline(line);
    setStats(st);
  }, 15000);

  const options = useMemo<Omit<uPlot.Options, "width" | "height">>(
    () => ({
      legend: { show: true },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true } },
      axes: [{ space: 70, incrs: TIME_INCRS, values: (_u: uPlot, ticks: number[]) => clockTicks(ticks, zone) }, { size: 50 }],
      series: [
        { label: t("chart.time"), value: (_u: uPlot, ts: number | null) => (ts == null ? "–" : formatTime(new Date(ts * 1000).toISOString(), lang, zone)) },
        { label: t("dash.succeeded"), fill: "rgba(46,139,87,0.55)", stroke: "#2e8b57", points: { show: false } },
        { label: t("dash.failed"), fill: "rgba(200,50,50,0.75)", stroke: "#c83232", points: { show: false } },
      ],
      tzDate: (ts: number) => new Date(ts * 1000),
    }),
    [lang, zone],
  );
  const data = useMemo<uPlot.AlignedData>(() => {
    const buckets = timeline?.buckets ?? [];
    return [
      buckets.map((b) => new Date(b.start).getTime() / 1000 + (timeline?.bucket_s ?? 3600) / 2),
      buckets.map((b) => b.succeeded + b.other),
      buckets.map((b) => b.failed),
    ];
  }, [timeline]);

  const totals = useMemo(() => {
    const b = timeline?.buckets ?? [];
    return { runs: b.reduce((n, x) => n + x.runs, 0), failed: b.reduce((n, x) => n + x.failed, 0) };
  }, [timeline]);

  const slowest = useMemo(
    () =>
      (stats?.jobs ?? [])
        .filter((j) => j.duration_max_s !== null)
        .sort((a, b) => (b.duration_p95_s ?? 0) - (a.duration_p95_s ?? 0))
        .slice(0, 5),
    [stats],
  );
  const failing = useMemo(
    () =>
      (stats?.jobs ?? [])
        .filter((j) => failures(j) > 0)
        .sort((a, b) => failures(b) - failures(a))
        .slice(0, 5),
    [stats],
  );

  const toggleScheduler = async () => {
    if (!confirm) return;
    setBusy(true);
    try {
      setSched(await api.post<SchedulerStatus>(`/api/scheduler/${confirm}`));
      setConfirm(null);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  if (!sched && !error) return <Loading />;
  return (
    <div class="page dashboard">
      <div class="page-head">
        <h1>{t("dash.title")}</h1>
        {sched && can("operator") ? (
          <button type="button" onClick={() => setConfirm(sched.paused ? "resume" : "pause")}>
            {sched.paused ? t("dash.resumeScheduler") : t("dash.pauseScheduler")}
          </button>
        ) : null}
      </div>
      <ErrorBox error={error} />
      {sched?.paused ? <div class="alert warn">{t("dash.schedulerPaused")}</div> : null}
      {sched ? (
        <div class="tiles">
          <Link href="/jobs" class="tile">
            <span class="tile-n">{sched.jobs.total}</span>
            <span class="tile-l">{t("dash.jobsTotal")}</span>
          </Link>
          <Link href="/jobs?state=scheduled" class="tile ok">
            <span class="tile-n">{sched.jobs.scheduled}</span>
            <span class="tile-l">{t("state.scheduled")}</span>
          </Link>
          <Link href="/jobs?state=paused" class="tile warn">
            <span class="tile-n">{sched.jobs.paused}</span>
            <span class="tile-l">{t("state.paused")}</span>
          </Link>
          <Link href="/jobs?state=completed" class="tile">
            <span class="tile-n">{sched.jobs.completed}</span>
            <span class="tile-l">{t("state.completed")}</span>
          </Link>
          <Link href="/runs" class="tile">
            <span class="tile-n">{totals.runs}</span>
            <span class="tile-l">{t("dash.runs24h")}</span>
          </Link>
          <Link href="/runs?status=failed" class={totals.failed ? "tile bad" : "tile"}>
            <span class="tile-n">{totals.failed}</span>
            <span class="tile-l">{t("dash.failed24h")}</span>
          </Link>
        </div>
      ) : null}
      <div class="grid-2">
        <Card
          title={
            <>
              {t("dash.chartTitle")}{" "}
              <span class="tz" translate={false}>
                {offsetLabel(new Date().toISOString(), zone)}
              </span>
            </>
          }
          class="span-2"
        >
          {timeline ? <Chart options={options} data={data} height={200} label={t("dash.chartTitle")} bars /> : <Loading />}
        </Card>
        <Card title={t("dash.upcoming")}>
          {upcoming === null ? (
            <Loading />
          ) : upcoming.length === 0 ? (
            <Empty>{t("dash.noUpcoming")}</Empty>
          ) : (
            <table class="table compact">
              <tbody>
                {upcoming.map((job) => (
                  <tr key={job.id}>
                    <td>
                      <Link href={`/jobs/${enc(job.id)}`}>
                        <Raw>{job.name}</Raw>
                      </Link>
                      <div class="muted small">{lang === "zh-CN" ? job.trigger.description.zh : job.trigger.description.en}</div>
                    </td>
                    <td class="nowrap right">
                      <Time iso={job.next_fire_at} zone={job.timezone} rel />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </Card>
        <Card title={t("dash.nodes")}>
          {sched && sched.nodes.length === 0 ? <Empty>{t("dash.noNodes")}</Empty> : null}
          {sched && sched.nodes.length > 0 ? (
            <table class="table compact">
              <thead>
                <tr>
                  <th>{t("dash.node")}</th>
                  <th>{t("dash.roles")}</th>
                  <th class="right">{t("dash.heartbeat")}</th>
                </tr>
              </thead>
              <tbody>
                {sched.nodes.map((n) => (
                  <tr key={n.id}>
                    <td>
                      <span class={n.alive ? "dot ok" : "dot bad"} aria-hidden="true" />
                      <Raw>
                        <span title={`${n.host} pid ${n.pid} · v${n.version}`}>{n.id}</span>
                      </Raw>
                      {sched.this_node.node_id === n.id ? <span class="muted small"> ({t("dash.thisNode")})</span> : null}
                    </td>
                    <td>{nodeRoles(t, n.roles)}</td>
                    <td class="right nowrap" title={n.heartbeat_at}>
                      {t("dash.ago", { age: age(n.heartbeat_age_s, lang) })}
                      {n.alive ? null : <span class="badge st-lost">{t("dash.dead")}</span>}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : null}
        </Card>
        <Card title={t("dash.slowest")}>
          {stats === null ? (
            <Loading />
          ) : slowest.length === 0 ? (
            <Empty>{t("dash.noRuns")}</Empty>
          ) : (
            <table class="table compact">
              <thead>
                <tr>
                  <th>{t("jobs.job")}</th>
                  <th class="right">p95</th>
                  <th class="right">{t("stats.max")}</th>
                </tr>
              </thead>
              <tbody>
                {slowest.map((s) => (
                  <tr key={s.job_id}>
                    <td>
                      <Link href={`/jobs/${enc(s.job_id ?? "")}`}>
                        <Raw>{s.job_id}</Raw>
                      </Link>
                    </td>
                    <td class="right">{duration(s.duration_p95_s, lang)}</td>
                    <td class="right">{duration(s.duration_max_s, lang)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </Card>
        <Card title={t("dash.failing")}>
          {stats === null ? (
            <Loading />
          ) : failing.length === 0 ? (
            <Empty>{t("dash.noFailures")}</Empty>
          ) : (
            <table class="table compact">
              <thead>
                <tr>
                  <th>{t("jobs.job")}</th>
                  <th class="right">{t("dash.failures")}</th>
                  <th class="right">{t("stats.successRate")}</th>
                  <th>{t("jobs.lastResult")}</th>
                </tr>
              </thead>
              <tbody>
                {failing.map((s) => (
                  <tr key={s.job_id}>
                    <td>
                      <Link href={`/jobs/${enc(s.job_id ?? "")}`}>
                        <Raw>{s.job_id}</Raw>
                      </Link>
                    </td>
                    <td class="right">
                      {failures(s)} / {s.runs}
                    </td>
                    <td class="right">{percent(s.success_rate)}</td>
                    <td>{s.last_status ? <StatusBadge status={s.last_status} /> : null}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </Card>
      </div>
      {confirm ? (
        <Confirm
          title={confirm === "pause" ? t("dash.pauseScheduler") : t("dash.resumeScheduler")}
          message={confirm === "pause" ? t("dash.pauseSchedulerConfirm") : t("dash.resumeSchedulerConfirm")}
          confirmLabel={confirm === "pause" ? t("dash.pauseScheduler") : t("dash.resumeScheduler")}
          danger={confirm === "pause"}
          busy={busy}
          onConfirm={toggleScheduler}
          onCancel={() => setConfirm(null)}
        />
      ) : null}
    </div>
  );
}
