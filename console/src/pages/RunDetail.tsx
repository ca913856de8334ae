// One run: metadata, result, error and traceback, the log (streamed over Server-Sent Events
// while the run is queued or running), cancel.
import { withBase } from "../base";
import type { ComponentChildren } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { api, enc } from "../api";
import { parseReport, ReportView } from "../components/Report";
import { Card, Confirm, Dl, ErrorBox, Link, Loading, MissedFires, Raw, StatusBadge, Time } from "../components/ui";
import { KindOutput, outputShape, parseResult } from "../components/KindOutput";
import { reasonLabel } from "../describe";
import { duration } from "../format";
import { useI18n } from "../i18n";
import { useCan } from "../session";
import type { RunDetail } from "../types";

const ACTIVE = new Set(["scheduled", "running"]);
type LiveState = "connecting" | "live" | "ended" | "closed";

export function RunDetailPage(props: { runId: number }) {
  const { t, lang } = useI18n();
  const can = useCan();
  const id = props.runId;
  const [run, setRun] = useState<RunDetail | null>(null);
  const [log, setLog] = useState("");
  const [live, setLive] = useState<LiveState>("connecting");
  const [error, setError] = useState<unknown>(null);
  const [cancelling, setCancelling] = useState(false);
  const [cancelError, setCancelError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const logBox = useRef<HTMLPreElement>(null);
  const follow = useRef(true);

  const refresh = async () => {
    try {
      setRun(await api.get<RunDetail>(`/api/runs/${id}`));
      setError(null);
    } catch (err) {
      setError(err);
    }
  };

  useEffect(() => {
    void refresh();
    // The stream sends the log so far, then what is added, each status change, and `end`.
    const source = new EventSource(withBase(`/api/runs/${id}/log/stream`));
    let text = "";
    const parse = (e: MessageEvent<string>): Record<string, string | null> => {
      try {
        return JSON.parse(e.data) as Record<string, string | null>;
      } catch {
        return {};
      }
    };
    source.addEventListener("open", () => setLive("live"));
    source.addEventListener("log", (e) => {
      text += parse(e as MessageEvent<string>).text ?? "";
      setLog(text);
    });
    source.addEventListener("reset", (e) => {
      text = parse(e as MessageEvent<string>).text ?? "";
      setLog(text);
    });
    source.addEventListener("status", (e) => {
      const status = parse(e as MessageEvent<string>).status;
      setRun((old) => (old && status ? { ...old, status: status as RunDetail["status"] } : old));
      void refresh();
    });
    source.addEventListener("end", () => {
      source.close();
      setLive("ended");
      void refresh();
    });
    source.addEventListener("error", () => {
      // A closed stream (the run ended, or the server went away): show the stored log.
      if (source.readyState === EventSource.CLOSED) {
        setLive((s) => (s === "ended" ? s : "closed"));
        void api.get<string>(`/api/runs/${id}/log`).then((whole) => setLog(whole || text)).catch(() => undefined);
      }
    });
    return () => source.close();
  }, [id]);

  useEffect(() => {
    const box = logBox.current;
    if (box && follow.current) box.scrollTop = box.scrollHeight;
  }, [log]);

  const cancel = async () => {
    setBusy(true);
    try {
      await api.post(`/api/runs/${id}/cancel`);
      setCancelling(false);
      await refresh();
    } catch (err) {
      setCancelError(err);
    } finally {
      setBusy(false);
    }
  };

  if (!run) return error ? <div class="page"><ErrorBox error={error} /></div> : <Loading />;
  const active = ACTIVE.has(run.status);
  const params = run.params ? JSON.stringify(run.params) : "";
  // A job kind's result (exit code and output, HTTP response, SQL rows) shown as such.
  const parsed = parseResult(run.result);
  const kindResult = outputShape(parsed) ? parsed : null;
  const report = parseReport(run.result);
  // A counted missed record: how many fires it stands for, and their range.
  const fires: [string, ComponentChildren][] = run.fires > 1 ? [[t("runs.fires"), <MissedFires run={run} />]] : [];

  return (
    <div class="page">
      <div class="page-head">
        <div>
          <div class="crumbs">
            <Link href="/runs">{t("nav.runs")}</Link> /{" "}
            <Link href={`/jobs/${enc(run.job_id)}`}>
              <Raw>{run.job_id}</Raw>
            </Link>{" "}
            /
          </div>
          <h1>
            {t("runs.run")} #{run.id} <StatusBadge status={run.status} />
          </h1>
        </div>
        <div class="actions">
          {active && can("operator") ? (
            <button type="button" class="danger-outline" onClick={() => setCancelling(true)} disabled={run.cancel_requested} data-action="cancel">
              {run.cancel_requested ? t("runs.cancelRequested") : t("runs.cancel")}
            </button>
          ) : null}
        </div>
      </div>
      <ErrorBox error={error} />
      <div class="grid-2">
        <Card title={t("runs.details")}>
          <Dl
            items={[
              [t("jobs.job"), <Link href={`/jobs/${enc(run.job_id)}`}><Raw>{run.job_id}</Raw></Link>],
              [t("runs.reason"), <span data-testid="run-reason">{reasonLabel(t, run.reason)}</span>],
              [t("runs.attempt.label"), run.retry_of ? <span>{run.attempt} · <Link href={`/runs/${run.retry_of}`}>#{run.retry_of}</Link></span> : String(run.attempt)],
              [t("runs.scheduledFor"), <Time iso={run.scheduled_for} />],
              ...fires,
              [t("runs.dueAt"), <Time iso={run.due_at} />],
              [t("runs.started"), <Time iso={run.started_at} />],
              [t("runs.finished"), <Time iso={run.finished_at} />],
              [t("runs.duration"), duration(run.duration_s, lang)],
              [t("runs.node"), run.node_id ? <Raw>{run.node_id}</Raw> : ""],
              [t("runs.triggeredBy"), run.triggered_by ? <Raw>{run.triggered_by}</Raw> : ""],
              [t("runs.params"), params ? <code>{params}</code> : ""],
            ]}
          />
        </Card>
        <Card title={t("runs.outcome")}>
          {report ? (
            <>
              <ReportView report={report} />
              <details>
                <summary>{t("report.raw")}</summary>
                <pre class="box">{run.result}</pre>
              </details>
            </>
          ) : run.result ? (
            <>
              <h3 class="sub">{t("runs.result")}</h3>
              {kindResult ? <KindOutput result={kindResult} ok={run.status === "succeeded"} /> : <pre class="box">{run.result}</pre>}
            </>
          ) : null}
          {run.error ? (
            <>
              <h3 class="sub">{t("runs.error")}</h3>
              <pre class="box error-text">{run.error}</pre>
            </>
          ) : null}
          {run.traceback ? (
            <>
              <h3 class="sub">{t("runs.traceback")}</h3>
              <pre class="box traceback">{run.traceback}</pre>
            </>
          ) : null}
          {!run.result && !run.error && !run.traceback ? <p class="muted">{active ? t("runs.stillRunning") : t("runs.noOutcome")}</p> : null}
        </Card>
      </div>
      <Card
        title={t("runs.log")}
        actions={
          <span class={`live ${live}`} data-testid="live-state">
            {live === "live" && active ? t("runs.live") : live === "connecting" ? t("runs.connecting") : t("runs.logComplete")}
          </span>
        }
      >
        <pre
          class="log"
          ref={logBox}
          data-testid="run-log"
          onScroll={(e) => {
            const el = e.currentTarget;
            follow.current = el.scrollTop + el.clientHeight >= el.scrollHeight - 8;
          }}
        >
          {log || <span class="muted">{active ? t("runs.waitingLog") : t("runs.noLog")}</span>}
        </pre>
      </Card>
      {cancelling ? (
        <Confirm
          title={t("runs.cancel")}
          message={t("runs.cancelConfirm", { id: run.id })}
          confirmLabel={t("runs.cancel")}
          danger
          busy={busy}
          error={cancelError}
          onConfirm={cancel}
          onCancel={() => setCancelling(false)}
        />
      ) : null}
    </div>
  );
}
