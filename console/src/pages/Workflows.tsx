// Workflows (issue 11): the list, a workflow (its graph and runs), a workflow run (its graph
// with each step coloured by state and linked to its run; rerun from the failed steps,
// cancel), and the editor (steps as rows, a live graph preview).
import { useEffect, useMemo, useState } from "preact/hooks";
import { api, enc } from "../api";
import { LazyDag as DagView } from "../components/LazyDag";
import { Card, Dl, Empty, ErrorBox, Field, Link, Loading, Raw, StatusBadge, Time, value } from "../components/ui";
import type { InputEvent } from "../components/ui";
import { useI18n } from "../i18n";
import type { MessageKey } from "../i18n";
import { navigate } from "../router";
import { useCan } from "../session";
import type { Job, Page } from "../types";
import type { Condition, Step, Workflow, WorkflowRun } from "../workflowTypes";

const STEP_STATE_KEY: Record<string, MessageKey> = {
  waiting: "wf.state.waiting",
  running: "status.running",
  succeeded: "status.succeeded",
  failed: "status.failed",
  timed_out: "status.timed_out",
  cancelled: "status.cancelled",
  skipped: "status.skipped",
  missed: "status.missed",
  lost: "status.lost",
};

function useStateLabel(): (state: string) => string {
  const { t } = useI18n();
  return (state) => (STEP_STATE_KEY[state] ? t(STEP_STATE_KEY[state]) : state);
}

/** The server's reasons (English, stable shapes) in the console's language. */
function useReasonText(): (reason: string | null) => string {
  const { t } = useI18n();
  return (reason) => {
    if (!reason) return "";
    let m = /^upstream (failed|succeeded|skipped): (.+)$/.exec(reason);
    if (m) return t(`wf.why.upstream.${m[1] as "failed" | "succeeded" | "skipped"}`, { step: m[2] ?? "" });
    m = /^(cancelled: )?deadline passed \((.+) s\)$/.exec(reason);
    if (m) return t("wf.why.deadline", { s: m[2] ?? "" });
    m = /^failed steps: (.+)$/.exec(reason);
    if (m) return t("wf.why.failedSteps", { steps: m[1] ?? "" });
    m = /^carried over from workflow run (\d+)$/.exec(reason);
    if (m) return t("wf.why.carried", { id: m[1] ?? "" });
    return reason;
  };
}

function triggerText(t: ReturnType<typeof useI18n>["t"], wf: Workflow): string {
  if (!wf.trigger) return t("wf.byHand");
  return wf.trigger.expr ? `cron ${wf.trigger.expr}` : wf.trigger.kind;
}

export function WorkflowsPage() {
  const { t } = useI18n();
  const can = useCan();
  const [items, setItems] = useState<Workflow[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    api.get<{ items: Workflow[] }>("/api/workflows").then((r) => setItems(r.items), setError);
  }, []);
  return (
    <div class="page">
      <div class="page-head">
        <h1>{t("nav.workflows")}</h1>
        {can("admin") ? (
          <Link href="/workflows/new" class="button primary">
            {t("wf.new")}
          </Link>
        ) : null}
      </div>
      <ErrorBox error={error} />
      {items === null ? (
        <Loading />
      ) : items.length === 0 ? (
        <Empty>{t("wf.none")}</Empty>
      ) : (
        <table class="table" data-testid="workflows-table">
          <thead>
            <tr>
              <th>{t("wf.id")}</th>
              <th>{t("wf.steps")}</th>
              <th>{t("wf.trigger")}</th>
              <th>{t("jobs.nextRun")}</th>
            </tr>
          </thead>
          <tbody>
            {items.map((wf) => (
              <tr key={wf.id} data-workflow={wf.id}>
                <td>
                  <Link href={`/workflows/${enc(wf.id)}`}>{wf.name}</Link> <Raw class="muted mono small">{wf.id}</Raw>
                </td>
                <td>{wf.steps.length}</td>
                <td>
                  <Raw>{triggerText(t, wf)}</Raw>
                  {wf.paused ? ` · ${t("state.paused")}` : ""}
                </td>
                <td>
                  <Time iso={wf.next_fire_at} zone={wf.timezone} rel />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

export function WorkflowPage(props: { workflowId: string }) {
  const { t } = useI18n();
  const can = useCan();
  const id = props.workflowId;
  const [wf, setWf] = useState<Workflow | null>(null);
  const [runs, setRuns] = useState<WorkflowRun[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    api.get<Workflow>(`/api/workflows/${enc(id)}`).then(setWf, setError);
    api.get<{ items: WorkflowRun[] }>(`/api/workflows/${enc(id)}/runs`, { limit: 20 }).then((r) => setRuns(r.items), setError);
  }, [id]);
  const runNow = async () => {
    setBusy(true);
    try {
      const out = await api.post<{ workflow_run_id: number }>(`/api/workflows/${enc(id)}/run`);
      navigate(`/workflows/${enc(id)}/runs/${out.workflow_run_id}`);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  if (!wf) return <div class="page">{error ? <ErrorBox error={error} /> : <Loading />}</div>;
  return (
    <div class="page">
      <div class="page-head">
        <div>
          <div class="crumbs">
            <Link href="/workflows">{t("nav.workflows")}</Link> /
          </div>
          <h1>
            <Raw>{wf.name}</Raw>
          </h1>
          <Raw class="muted mono small">{wf.id}</Raw>
        </div>
        <div class="card-actions">
          {can("operator") ? (
            <button type="button" class="small primary" disabled={busy} onClick={runNow} data-action="run-workflow">
              {t("wf.runNow")}
            </button>
          ) : null}
          {can("admin") && wf.owner !== "config" ? (
            <Link href={`/workflows/${enc(wf.id)}/edit`} class="button small">
              {t("wf.edit")}
            </Link>
          ) : null}
        </div>
      </div>
      <ErrorBox error={error} />
      <div class="grid-2">
        <Card title={t("wf.graph")}>
          <div class="dag-wrap">
            <DagView steps={wf.steps} edgeLabel={(on) => t(`wf.on.${on as "failure" | "always"}`)} />
          </div>
        </Card>
        <Card title={t("job.definition")}>
          <Dl
            items={[
              [t("wf.trigger"), <Raw>{triggerText(t, wf)}</Raw>],
              [t("editor.timezone"), <Raw>{wf.timezone}</Raw>],
              [t("jobs.nextRun"), <Time iso={wf.next_fire_at} zone={wf.timezone} rel />],
              [t("wf.deadline"), wf.deadline_s !== null ? `${wf.deadline_s} s` : "–"],
              [t("editor.description"), wf.description ? <Raw>{wf.description}</Raw> : ""],
              [t("job.owner"), <Raw>{wf.owner_ref ?? wf.owner}</Raw>],
            ]}
          />
        </Card>
      </div>
      <Card title={t("wf.runs")}>
        {runs.length === 0 ? (
          <Empty>{t("wf.noRuns")}</Empty>
        ) : (
          <table class="table" data-testid="workflow-runs">
            <thead>
              <tr>
                <th>#</th>
                <th>{t("runs.status")}</th>
                <th>{t("wf.reason")}</th>
                <th>{t("wf.started")}</th>
                <th>{t("wf.ended")}</th>
              </tr>
            </thead>
            <tbody>
              {runs.map((r) => (
                <tr key={r.id}>
                  <td>
                    <Link href={`/workflows/${enc(id)}/runs/${r.id}`}>#{r.id}</Link>
                  </td>
                  <td>
                    <StatusBadge status={r.status} />
                  </td>
                  <td>{r.rerun_of ? t("wf.rerunOf", { id: r.rerun_of }) : r.reason}</td>
                  <td>
                    <Time iso={r.created_at} />
                  </td>
                  <td>
                    <Time iso={r.finished_at} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Card>
    </div>
  );
}

export function WorkflowRunPage(props: { workflowId: string; runId: number }) {
  const { t } = useI18n();
  const can = useCan();
  const label = useStateLabel();
  const why = useReasonText();
  const base = `/api/workflows/${enc(props.workflowId)}/runs/${props.runId}`;
  const [run, setRun] = useState<WorkflowRun | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    let stop = false;
    let timer = 0;
    const load = async () => {
      try {
        const got = await api.get<WorkflowRun>(base);
        if (stop) return;
        setRun(got);
        if (got.status === "running" || got.step_runs.some((s) => s.state === "running" || s.state === "waiting")) {
          timer = window.setTimeout(() => void load(), 1000);
        }
      } catch (err) {
        if (!stop) setError(err);
      }
    };
    void load();
    return () => {
      stop = true;
      window.clearTimeout(timer);
    };
  }, [base]);
  const act = async (what: "rerun" | "cancel") => {
    setBusy(true);
    try {
      if (what === "rerun") {
        const out = await api.post<{ workflow_run_id: number }>(`${base}/rerun`);
        navigate(`/workflows/${enc(props.workflowId)}/runs/${out.workflow_run_id}`);
      } else {
        setRun(await api.post<WorkflowRun>(`${base}/cancel`));
      }
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  if (!run) return <div class="page">{error ? <ErrorBox error={error} /> : <Loading />}</div>;
  const order = new Map(run.steps.map((s, i) => [s.id, i]));
  const rows = [...run.step_runs].sort((a, b) => (order.get(a.step) ?? 0) - (order.get(b.step) ?? 0));
  return (
    <div class="page">
      <div class="page-head">
        <div>
          <div class="crumbs">
            <Link href="/workflows">{t("nav.workflows")}</Link> / <Link href={`/workflows/${enc(run.workflow_id)}`}>{run.workflow_id}</Link> /
          </div>
          <h1>
            {t("wf.run", { id: run.id })} <StatusBadge status={run.status} />
          </h1>
          {run.rerun_of ? (
            <Link href={`/workflows/${enc(run.workflow_id)}/runs/${run.rerun_of}`}>{t("wf.rerunOf", { id: run.rerun_of })}</Link>
          ) : null}
        </div>
        <div class="card-actions">
          {can("operator") && !["running", "succeeded"].includes(run.status) ? (
            <button type="button" class="small primary" disabled={busy} onClick={() => void act("rerun")} data-action="rerun">
              {t("wf.rerun")}
            </button>
          ) : null}
          {can("operator") && run.status === "running" ? (
            <button type="button" class="small danger-outline" disabled={busy} onClick={() => void act("cancel")} data-action="cancel-workflow-run">
              {t("wf.cancel")}
            </button>
          ) : null}
        </div>
      </div>
      <ErrorBox error={error} />
      {run.error ? <div class="alert error">{why(run.error)}</div> : null}
      <Card title={t("wf.graph")}>
        <div class="dag-wrap">
          <DagView steps={run.steps} runs={run.step_runs} label={label} edgeLabel={(on) => t(`wf.on.${on as "failure" | "always"}`)} />
        </div>
      </Card>
      <Card title={t("wf.steps")}>
        <table class="table" data-testid="step-runs">
          <thead>
            <tr>
              <th>{t("wf.step")}</th>
              <th>{t("wf.job")}</th>
              <th>{t("runs.status")}</th>
              <th>{t("wf.reason")}</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((s) => (
              <tr key={s.step} data-step={s.step} data-state={s.state}>
                <td>
                  {s.run_id !== null ? <Link href={`/runs/${s.run_id}`}>{s.step}</Link> : <Raw>{s.step}</Raw>}
                </td>
                <td>
                  <Link href={`/jobs/${enc(s.job_id)}`}>{s.job_id}</Link>
                </td>
                <td>
                  <span class={`badge st-${s.state}`}>{label(s.state)}</span>
                  {s.carried ? ` · ${t("wf.kept")}` : ""}
                </td>
                <td>
                  <Raw>{why(s.reason)}</Raw>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </Card>
    </div>
  );
}

interface Row {
  id: string;
  job: string;
  after: string; // "extract, load:failure, check:always"
}

function parseAfter(text: string): { step: string; on: Condition }[] {
  return text
    .split(",")
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => {
      const [step, on] = part.split(":").map((x) => x.trim());
      const cond = (on === "failure" || on === "always" ? on : "success") as Condition;
      return { step: step ?? "", on: cond };
    });
}

function afterText(step: Step): string {
  return step.after.map((e) => (e.on === "success" ? e.step : `${e.step}:${e.on}`)).join(", ");
}

export function WorkflowEditorPage(props: { workflowId: string | null }) {
  const { t } = useI18n();
  const [jobs, setJobs] = useState<Job[]>([]);
  const [id, setId] = useState("");
  const [name, setName] = useState("");
  const [cron, setCron] = useState("");
  const [deadline, setDeadline] = useState("");
  const [rows, setRows] = useState<Row[]>([{ id: "", job: "", after: "" }]);
  const [version, setVersion] = useState<number | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    api.get<Page<Job>>("/api/jobs", { limit: 500 }).then((p) => setJobs(p.items), setError);
    if (props.workflowId) {
      api.get<Workflow>(`/api/workflows/${enc(props.workflowId)}`).then((wf) => {
        setId(wf.id);
        setName(wf.name);
        setCron(wf.trigger?.expr ?? "");
        setDeadline(wf.deadline_s !== null ? String(wf.deadline_s) : "");
        setRows(wf.steps.map((s) => ({ id: s.id, job: s.job, after: afterText(s) })));
        setVersion(wf.version);
      }, setError);
    }
  }, [props.workflowId]);
  const steps: Step[] = useMemo(
    () => rows.filter((r) => r.id.trim()).map((r) => ({ id: r.id.trim(), job: r.job || r.id.trim(), after: parseAfter(r.after) })),
    [rows],
  );
  const preview = useMemo(() => {
    const ids = new Set(steps.map((s) => s.id));
    return steps.map((s) => ({ ...s, after: s.after.filter((e) => ids.has(e.step) && e.step !== s.id) }));
  }, [steps]);
  const change = (i: number, key: keyof Row) => (event: InputEvent) =>
    setRows(rows.map((r, j) => (j === i ? { ...r, [key]: value(event) } : r)));
  const save = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    const body = {
      id: id.trim(),
      name: name.trim() || null,
      steps: steps.map((s) => ({ id: s.id, job: s.job, after: s.after })),
      trigger: cron.trim() || null,
      deadline_s: deadline.trim() ? Number(deadline) : null,
      ...(version !== null ? { version } : {}),
    };
    try {
      const saved = props.workflowId
        ? await api.put<Workflow>(`/api/workflows/${enc(props.workflowId)}`, body)
        : await api.post<Workflow>("/api/workflows", body);
      navigate(`/workflows/${enc(saved.id)}`);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="page">
      <div class="crumbs">
        <Link href="/workflows">{t("nav.workflows")}</Link> /
      </div>
      <h1>{props.workflowId ? t("wf.edit") : t("wf.new")}</h1>
      <form onSubmit={save} data-testid="workflow-editor">
        <div class="grid-2">
          <Card>
            <Field label={t("wf.id")} name="id">
              <input name="id" value={id} disabled={props.workflowId !== null} onInput={(e) => setId(value(e))} required />
            </Field>
            <Field label={t("editor.name")} name="name">
              <input name="name" value={name} onInput={(e) => setName(value(e))} />
            </Field>
            <Field label={t("wf.cron")} hint={t("wf.cronHint")} name="trigger">
              <input name="trigger" class="mono" value={cron} onInput={(e) => setCron(value(e))} placeholder="30 1 * * *" />
            </Field>
            <Field label={t("wf.deadlineS")} name="deadline_s">
              <input name="deadline_s" type="number" min="1" value={deadline} onInput={(e) => setDeadline(value(e))} />
            </Field>
          </Card>
          <Card title={t("wf.graph")}>
            <div class="dag-wrap">{preview.length ? <DagView steps={preview} edgeLabel={(on) => t(`wf.on.${on as "failure" | "always"}`)} /> : <Empty>{t("wf.noSteps")}</Empty>}</div>
          </Card>
        </div>
        <Card title={t("wf.steps")}>
          <p class="hint">{t("wf.afterHint")}</p>
          <table class="table wf-steps">
            <thead>
              <tr>
                <th>{t("wf.step")}</th>
                <th>{t("wf.job")}</th>
                <th>{t("wf.after")}</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {rows.map((r, i) => (
                <tr key={i} data-row={i}>
                  <td>
                    <input name={`step-${i}`} value={r.id} onInput={change(i, "id")} />
                  </td>
                  <td>
                    <select name={`job-${i}`} value={r.job} onChange={change(i, "job")}>
                      <option value="">{t("wf.jobSameAsStep")}</option>
                      {jobs.map((j) => (
                        <option key={j.id} value={j.id}>
                          {j.id}
                        </option>
                      ))}
                    </select>
                  </td>
                  <td>
                    <input name={`after-${i}`} class="mono" value={r.after} onInput={change(i, "after")} placeholder="extract, load:failure" />
                  </td>
                  <td>
                    <button type="button" class="small" onClick={() => setRows(rows.filter((_, j) => j !== i))} aria-label={t("wf.removeStep")}>
                      ×
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <button type="button" class="small" onClick={() => setRows([...rows, { id: "", job: "", after: "" }])} data-action="add-step">
            {t("wf.addStep")}
          </button>
        </Card>
        <ErrorBox error={error} />
        <div class="form-actions">
          <button type="submit" class="primary" disabled={busy} data-action="save-workflow">
            {busy ? t("common.saving") : t("common.save")}
          </button>
        </div>
      </form>
    </div>
  );
}
