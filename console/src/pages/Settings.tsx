// The deployment's settings that decide what jobs may do (issue 17): the SSRF allowlist, the
// job kinds and which are switched off, how scripts are confined, the Python target
// allowlist. Read-only: each is an environment variable of the nodes (the API has no route
// to change them), named beside its value.
import { useEffect, useState } from "preact/hooks";
import { api } from "../api";
import { Card, Dl, ErrorBox, Loading, Raw } from "../components/ui";
import { kindLabel } from "../describe";
import { useI18n } from "../i18n";
import type { MessageKey } from "../i18n";
import type { DeploymentSettings, KindInfo } from "../kinds";

export function SettingsPage() {
  const { t } = useI18n();
  const [settings, setSettings] = useState<DeploymentSettings | null>(null);
  const [kinds, setKinds] = useState<KindInfo[]>([]);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    Promise.all([api.get<DeploymentSettings>("/api/settings"), api.get<KindInfo[]>("/api/kinds")])
      .then(([s, k]) => {
        setSettings(s);
        setKinds(k);
      })
      .catch(setError);
  }, []);
  if (!settings) return error ? <div class="page"><ErrorBox error={error} /></div> : <Loading />;
  const sandbox = `settings.sandbox.${settings.scripts_sandbox}` as MessageKey;
  const sandboxText = t(sandbox) === sandbox ? settings.scripts_sandbox : t(sandbox);
  return (
    <div class="page">
      <div class="page-head">
        <h1>{t("nav.settings")}</h1>
      </div>
      <div class="alert info" role="status">{t("settings.readOnly")}</div>
      <div class="grid-2">
        <Card title={t("settings.ssrf")}>
          <p class="muted small">
            {t("settings.ssrfIntro")} <code>TICKWORK_SSRF_ALLOW</code>
          </p>
          {settings.ssrf_allow.length ? (
            <ul class="plain-list" data-testid="ssrf-allow">
              {settings.ssrf_allow.map((entry) => (
                <li key={entry}>
                  <code>{entry}</code>
                </li>
              ))}
            </ul>
          ) : (
            <p data-testid="ssrf-allow">{t("settings.ssrfNone")}</p>
          )}
        </Card>
        <Card title={t("settings.kinds")}>
          <table class="table compact" data-testid="kinds-table">
            <thead>
              <tr>
                <th>{t("kinds.kind")}</th>
                <th>{t("settings.state")}</th>
                <th>{t("settings.who")}</th>
                <th>{t("settings.switch")}</th>
              </tr>
            </thead>
            <tbody>
              {kinds.map((k) => (
                <tr key={k.kind} data-kind={k.kind}>
                  <td>{kindLabel(t, k.kind)}</td>
                  <td>
                    <span class={`badge ${k.enabled ? "st-succeeded" : "st-failed"}`}>{k.enabled ? t("settings.on") : t("settings.off")}</span>
                  </td>
                  <td>{k.admin_only ? t("common.yes") : t("common.no")}</td>
                  <td>{k.switch ? <code>{k.switch}=off</code> : <span class="muted">–</span>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </Card>
        <Card title={t("settings.scripts")}>
          <Dl
            items={[
              [t("settings.sandbox"), <span>{sandboxText} <code>TICKWORK_SCRIPTS_SANDBOX</code></span>],
              [t("settings.scriptsUser"), <span><Raw class="mono">{settings.scripts_user}</Raw> <code>TICKWORK_SCRIPTS_USER</code></span>],
            ]}
          />
        </Card>
        <Card title={t("settings.targets")}>
          <p class="muted small">
            {t("settings.targetsIntro")} <code>TICKWORK_ALLOWED_TARGETS</code>
          </p>
          {settings.allowed_targets === null ? (
            <p>{t("settings.targetsDefault")}</p>
          ) : (
            <ul class="plain-list">
              {settings.allowed_targets.map((entry) => (
                <li key={entry}>
                  <code>{entry}</code>
                </li>
              ))}
            </ul>
          )}
        </Card>
      </div>
    </div>
  );
}
