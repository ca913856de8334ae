// A job page's alerts: the rules that cover the job and its last alerts.
import { useState } from "preact/hooks";
import { api, enc } from "../api";
import { usePoll } from "../hooks";
import { useI18n } from "../i18n";
import { AlertTable } from "../pages/Alerts";
import type { AlertItem, AlertList } from "../types";
import { AlertRulesCard } from "./AlertRules";
import { Card, Empty, ErrorBox, Link } from "./ui";

export function JobAlerts(props: { jobId: string }) {
  const { t } = useI18n();
  const [items, setItems] = useState<AlertItem[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  usePoll(
    async () => {
      try {
        setItems((await api.get<AlertList>("/api/alerts/history", { job_id: props.jobId, limit: 10 })).items);
        setError(null);
      } catch (err) {
        setError(err);
      }
    },
    15000,
    [props.jobId],
  );
  return (
    <Card title={t("alerts.title")} actions={<Link href={`/alerts?tab=history&job_id=${enc(props.jobId)}`}>{t("alerts.allAlerts")}</Link>} class="job-alerts">
      <h3 class="small muted">{t("alerts.rulesForJob")}</h3>
      <AlertRulesCard jobId={props.jobId} />
      <h3 class="small muted">{t("alerts.lastAlerts")}</h3>
      <ErrorBox error={error} />
      {items === null ? null : items.length === 0 ? <Empty>{t("alerts.none")}</Empty> : <AlertTable items={items} />}
    </Card>
  );
}
