// Alerts: the history (everyone), the rules (read by everyone, written by admins) and the
// channels (admins; secrets masked, a test message per channel). docs/alerts.md.
import type { JSX } from "preact";
import { useState } from "preact/hooks";
import { api } from "../api";
import { AlertChannelsCard } from "../components/AlertChannels";
import { AlertRulesCard } from "../components/AlertRules";
import { Empty, ErrorBox, Link, Raw, Time, value } from "../components/ui";
import { usePoll } from "../hooks";
import { useI18n } from "../i18n";
import { navigate, setQuery, useLocation } from "../router";
import { covers, useSession } from "../session";
import type { AlertItem, AlertList } from "../types";

const TABS = ["history", "rules", "channels"] as const;
type Tab = (typeof TABS)[number];
const STATUSES = ["queued", "deduplicated", "pending", "delivered", "failed"];

export function AlertsPage() {
  const { t } = useI18n();
  const location = useLocation();
  const admin = covers(useSession().role, "admin");
  const wanted = (location.query.get("tab") ?? "history") as Tab;
  const tab: Tab = TABS.includes(wanted) && (wanted !== "channels" || admin) ? wanted : "history";
  return (
    <div class="page">
      <div class="page-head">
        <h1>{t("alerts.title")}</h1>
      </div>
      <nav class="tabs" role="tablist">
        {TABS.filter((x) => x !== "channels" || admin).map((x) => (
          <button
            type="button"
            role="tab"
            aria-selected={x === tab}
            class={x === tab ? "tab active" : "tab"}
            key={x}
            data-testid={`tab-${x}`}
            onClick={() => navigate(`/alerts?tab=${x}`)}
          >
            {t(`alerts.tab.${x}`)}
          </button>
        ))}
      </nav>
      {tab === "history" ? <AlertHistory /> : tab === "rules" ? <AlertRulesCard /> : <AlertChannelsCard />}
    </div>
  );
}

function AlertHistory() {
  const { t } = useI18n();
  const location = useLocation();
  const [job, setJob] = useState(location.query.get("job_id") ?? "");
  const [status, setStatus] = useState(location.query.get("status") ?? "");
  const [items, setItems] = useState<AlertItem[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const filters = { job_id: job.trim() || undefined, status: status || undefined, limit: 100 };
  usePoll(
    async () => {
      try {
        setItems((await api.get<AlertList>("/api/alerts/history", filters)).items);
        setError(null);
      } catch (err) {
        setError(err);
      }
    },
    10000,
    [job, status],
  );
  const change = (setter: (v: string) => void, key: string) => (e: JSX.TargetedEvent<HTMLInputElement | HTMLSelectElement>) => {
    setter(value(e));
    setQuery({ tab: "history", job_id: key === "job_id" ? value(e) : job, status: key === "status" ? value(e) : status });
  };
  return (
    <>
      <div class="filters">
        <input placeholder={t("runs.jobId")} aria-label={t("runs.jobId")} value={job} onInput={change(setJob, "job_id")} class="mono" />
        <select aria-label={t("alerts.status")} value={status} onChange={change(setStatus, "status")} name="status">
          <option value="">{t("alerts.anyStatus")}</option>
          {STATUSES.map((s) => (
            <option value={s} key={s}>
              {t(`alerts.status.${s}` as "alerts.status.queued")}
            </option>
          ))}
        </select>
      </div>
      <ErrorBox error={error} />
      {items === null ? null : items.length === 0 ? <Empty>{t("alerts.none")}</Empty> : <AlertTable items={items} showJob />}
    </>
  );
}

export function AlertTable(props: { items: AlertItem[]; showJob?: boolean }) {
  const { t } = useI18n();
  return (
    <table class="table compact" data-testid="alerts-table">
      <thead>
        <tr>
          <th>{t("audit.at")}</th>
          <th>{t("alerts.what")}</th>
          {props.showJob ? <th>{t("jobs.job")}</th> : null}
          <th>{t("alerts.severity")}</th>
          <th>{t("alerts.rule")}</th>
          <th>{t("alerts.deliveries")}</th>
        </tr>
      </thead>
      <tbody>
        {props.items.map((a) => (
          <tr key={a.id}>
            <td class="nowrap">
              <Time iso={a.created_at} />
            </td>
            <td>
              {t(`alerts.kind.${a.kind}` as "alerts.kind.failed")}
              {a.status === "deduplicated" ? <span class="badge st-skipped"> {t("alerts.status.deduplicated")}</span> : null}
              {a.kind === "summary" ? <span class="muted small"> ({t("alerts.more", { n: Number(a.facts.count ?? 0) })})</span> : null}
              {a.run_id ? (
                <span class="small">
                  {" "}
                  <Link href={`/runs/${a.run_id}`}>#{a.run_id}</Link>
                </span>
              ) : null}
            </td>
            {props.showJob ? (
              <td>{a.job_id ? <Link href={`/jobs/${encodeURIComponent(a.job_id)}`}><Raw>{a.job_id}</Raw></Link> : "-"}</td>
            ) : null}
            <td>
              <span class={`badge sev-${a.severity}`}>{t(`alerts.severity.${a.severity}` as "alerts.severity.info")}</span>
            </td>
            <td class="mono small">
              <Raw>{a.rule_id ?? "-"}</Raw>
            </td>
            <td>
              {a.deliveries.map((d) => (
                <span class={`badge dl-${d.status}`} key={d.id} title={d.last_error ?? ""} data-testid="delivery">
                  <Raw>{d.channel}</Raw>: {t(`alerts.status.${d.status}` as "alerts.status.queued")}
                </span>
              ))}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
