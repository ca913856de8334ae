// Alert rules: everyone reads them; admins create, switch off and remove them.
import { useState } from "preact/hooks";
import { api } from "../api";
import { useI18n } from "../i18n";
import { covers, useSession } from "../session";
import type { AlertChannel, AlertRule, Json } from "../types";
import { Card, Empty, ErrorBox, Field, Raw, value } from "./ui";

const KINDS = ["failed", "consecutive_failures", "error_rate", "long_run", "timed_out", "lost", "missed", "recovery", "finding"];
const SCOPES = ["all", "job", "group", "tag"];
const SEVERITIES = ["info", "warning", "critical"];

export function AlertRulesCard(props: { jobId?: string }) {
  const { t } = useI18n();
  const admin = covers(useSession().role, "admin");
  const [rules, setRules] = useState<AlertRule[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const load = async () => {
    try {
      const query = props.jobId ? { job_id: props.jobId } : {};
      setRules((await api.get<{ items: AlertRule[] }>("/api/alerts/rules", query)).items);
      setError(null);
    } catch (err) {
      setError(err);
    }
  };
  if (rules === null && error === null) void load();
  const act = async (what: () => Promise<unknown>) => {
    try {
      await what();
      await load();
    } catch (err) {
      setError(err);
    }
  };
  const table = (
    <>
      <ErrorBox error={error} />
      {rules !== null && rules.length === 0 ? <Empty>{t("alerts.noRules")}</Empty> : null}
      {rules && rules.length ? (
        <table class="table compact" data-testid="rules-table">
          <thead>
            <tr>
              <th>{t("alerts.rule")}</th>
              <th>{t("alerts.when")}</th>
              <th>{t("alerts.scope")}</th>
              <th>{t("alerts.severity")}</th>
              <th>{t("alerts.dedupe")}</th>
              <th>{t("alerts.channels")}</th>
              {admin && !props.jobId ? <th class="right">{t("jobs.actions")}</th> : null}
            </tr>
          </thead>
          <tbody>
            {rules.map((r) => (
              <tr key={r.id} data-rule={r.id}>
                <td class="mono">
                  <Raw>{r.id}</Raw>
                  {r.enabled ? null : <span class="badge js-paused"> {t("alerts.off")}</span>}
                </td>
                <td>
                  {t(`alerts.kind.${r.kind}` as "alerts.kind.failed")}
                  {Object.keys(r.params).length ? <span class="muted small mono"> <Raw>{JSON.stringify(r.params)}</Raw></span> : null}
                </td>
                <td>
                  {t(`alerts.scope.${r.scope}` as "alerts.scope.all")}
                  {r.scope_value ? (
                    <>
                      {" "}
                      <Raw class="mono">{r.scope_value}</Raw>
                    </>
                  ) : null}
                </td>
                <td>
                  <span class={`badge sev-${r.severity}`}>{t(`alerts.severity.${r.severity}` as "alerts.severity.info")}</span>
                </td>
                <td class="small">
                  {r.dedupe_s ? t("alerts.dedupeEvery", { s: r.dedupe_s }) : "-"}
                  {r.quiet ? <div class="muted">{t("alerts.quietHours", { start: r.quiet.start, end: r.quiet.end, zone: r.quiet.timezone })}</div> : null}
                </td>
                <td class="small">
                  <Raw>{r.channels.join(", ") || "-"}</Raw>
                </td>
                {admin && !props.jobId ? (
                  <td class="right nowrap">
                    <button type="button" onClick={() => act(() => api.patch(`/api/alerts/rules/${encodeURIComponent(r.id)}`, { enabled: !r.enabled }))}>
                      {r.enabled ? t("alerts.switchOff") : t("alerts.switchOn")}
                    </button>{" "}
                    <button type="button" class="danger" onClick={() => act(() => api.del(`/api/alerts/rules/${encodeURIComponent(r.id)}`))}>
                      {t("jobs.delete")}
                    </button>
                  </td>
                ) : null}
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </>
  );
  if (props.jobId) return table;
  return (
    <>
      {admin ? <NewRule onCreated={load} /> : null}
      <Card title={t("alerts.rules")}>{table}</Card>
    </>
  );
}

function NewRule(props: { onCreated: () => void }) {
  const { t } = useI18n();
  const [id, setId] = useState("");
  const [kind, setKind] = useState("failed");
  const [scope, setScope] = useState("all");
  const [scopeValue, setScopeValue] = useState("");
  const [severity, setSeverity] = useState("warning");
  const [dedupe, setDedupe] = useState("3600");
  const [params, setParams] = useState("");
  const [channels, setChannels] = useState<string[]>([]);
  const [known, setKnown] = useState<string[] | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  if (known === null) {
    setKnown([]);
    api.get<{ items: AlertChannel[] }>("/api/alerts/channels").then((r) => setKnown(r.items.map((c) => c.name)), setError);
  }
  const create = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    try {
      let parsed: Record<string, Json> = {};
      if (params.trim()) parsed = JSON.parse(params) as Record<string, Json>;
      const body: Record<string, Json> = { id, kind, scope, severity, dedupe_s: Number(dedupe), channels, params: parsed };
      if (scope !== "all") body.scope_value = scopeValue;
      await api.post("/api/alerts/rules", body);
      setId("");
      setError(null);
      props.onCreated();
    } catch (err) {
      setError(err instanceof SyntaxError ? new Error(t("alerts.paramsJson")) : err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Card title={t("alerts.newRule")}>
      <form class="inline-form" onSubmit={create} data-testid="new-rule">
        <Field label={t("alerts.ruleId")} name="id">
          <input value={id} onInput={(e) => setId(value(e))} required class="mono" />
        </Field>
        <Field label={t("alerts.when")} name="kind">
          <select value={kind} onChange={(e) => setKind(value(e))}>
            {KINDS.map((k) => (
              <option value={k} key={k}>
                {t(`alerts.kind.${k}` as "alerts.kind.failed")}
              </option>
            ))}
          </select>
        </Field>
        <Field label={t("alerts.scope")} name="scope">
          <select value={scope} onChange={(e) => setScope(value(e))}>
            {SCOPES.map((s) => (
              <option value={s} key={s}>
                {t(`alerts.scope.${s}` as "alerts.scope.all")}
              </option>
            ))}
          </select>
        </Field>
        {scope !== "all" ? (
          <Field label={t(`alerts.scope.${scope}` as "alerts.scope.all")} name="scope_value">
            <input value={scopeValue} onInput={(e) => setScopeValue(value(e))} required class="mono" />
          </Field>
        ) : null}
        <Field label={t("alerts.severity")} name="severity">
          <select value={severity} onChange={(e) => setSeverity(value(e))}>
            {SEVERITIES.map((s) => (
              <option value={s} key={s}>
                {t(`alerts.severity.${s}` as "alerts.severity.info")}
              </option>
            ))}
          </select>
        </Field>
        <Field label={t("alerts.dedupeSeconds")} name="dedupe_s">
          <input value={dedupe} onInput={(e) => setDedupe(value(e))} inputMode="numeric" />
        </Field>
        <Field label={t("alerts.params")} hint={t("alerts.paramsHint")} name="params">
          <input value={params} onInput={(e) => setParams(value(e))} class="mono" placeholder='{"count": 3}' />
        </Field>
        <fieldset class="field" data-field="channels">
          <span class="label">{t("alerts.channels")}</span>
          {(known ?? []).map((name) => (
            <label key={name} class="check">
              <input
                type="checkbox"
                checked={channels.includes(name)}
                onChange={(e) => setChannels(e.currentTarget.checked ? [...channels, name] : channels.filter((c) => c !== name))}
              />{" "}
              <Raw>{name}</Raw>
            </label>
          ))}
        </fieldset>
        <button type="submit" class="primary" disabled={busy}>
          {t("alerts.create")}
        </button>
      </form>
      <ErrorBox error={error} />
    </Card>
  );
}
