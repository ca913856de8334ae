// Celery queues (issue 14): per queue backlog, running runs, workers, throughput and the oldest
// waiting run; the workers with their heartbeat, concurrency and current runs.
import { useState } from "preact/hooks";
import { api } from "../api";
import { Empty, ErrorBox, Link, Loading, Time } from "../components/ui";
import { shortDuration } from "../format";
import { usePoll } from "../hooks";
import { useI18n } from "../i18n";

interface QueueRow {
  queue: string;
  backlog: number;
  running: number;
  workers: number;
  concurrency: number;
  runs_per_min: number;
  oldest_waiting_s: number | null;
}

interface WorkerRow {
  node_id: string;
  host: string;
  pid: number;
  queues: string[];
  concurrency: number;
  broker: string;
  started_at: string;
  heartbeat_at: string;
  heartbeat_age_s: number;
  running: number[];
}

export function QueuesPage() {
  const { t, lang } = useI18n();
  const [data, setData] = useState<{ queues: QueueRow[]; workers: WorkerRow[] } | null>(null);
  const [error, setError] = useState<unknown>(null);

  usePoll(async () => {
    try {
      setData(await api.get<{ queues: QueueRow[]; workers: WorkerRow[] }>("/api/queues"));
      setError(null);
    } catch (err) {
      setError(err);
    }
  }, 5000);

  return (
    <div class="page">
      <div class="page-head">
        <h1>{t("queues.title")}</h1>
      </div>
      <ErrorBox error={error} />
      {data === null ? (
        error ? null : <Loading />
      ) : (
        <>
          <h2>{t("queues.queues")}</h2>
          {data.queues.length === 0 ? (
            <Empty>{t("queues.none")}</Empty>
          ) : (
            <table class="table compact" aria-label={t("queues.queues")}>
              <thead>
                <tr>
                  <th>{t("queues.queue")}</th>
                  <th class="num">{t("queues.backlog")}</th>
                  <th class="num">{t("queues.running")}</th>
                  <th class="num">{t("queues.workers")}</th>
                  <th class="num">{t("queues.perMin")}</th>
                  <th class="num">{t("queues.oldest")}</th>
                </tr>
              </thead>
              <tbody>
                {data.queues.map((q) => (
                  <tr key={q.queue}>
                    <td class="mono">{q.queue}</td>
                    <td class="num">{q.backlog}</td>
                    <td class="num">{q.running}</td>
                    <td class="num">
                      {q.workers} ({t("queues.slots", { n: q.concurrency })})
                    </td>
                    <td class="num">{q.runs_per_min}</td>
                    <td class="num">{q.oldest_waiting_s === null ? "—" : shortDuration(q.oldest_waiting_s, lang)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <h2>{t("queues.workerList")}</h2>
          {data.workers.length === 0 ? (
            <Empty>{t("queues.noWorkers")}</Empty>
          ) : (
            <table class="table compact" aria-label={t("queues.workerList")}>
              <thead>
                <tr>
                  <th>{t("queues.worker")}</th>
                  <th>{t("queues.queue")}</th>
                  <th class="num">{t("queues.concurrency")}</th>
                  <th>{t("queues.heartbeat")}</th>
                  <th>{t("queues.current")}</th>
                </tr>
              </thead>
              <tbody>
                {data.workers.map((w) => (
                  <tr key={w.node_id}>
                    <td class="mono" title={`${w.host} pid ${w.pid} · ${w.broker}`}>
                      {w.node_id}
                    </td>
                    <td class="mono">{w.queues.join(", ")}</td>
                    <td class="num">{w.concurrency}</td>
                    <td>
                      <Time iso={w.heartbeat_at} rel />
                    </td>
                    <td>
                      {w.running.length === 0
                        ? t("queues.idle")
                        : w.running.map((id) => (
                            <span key={id}>
                              <Link href={`/runs/${id}`}>#{id}</Link>{" "}
                            </span>
                          ))}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      )}
    </div>
  );
}
