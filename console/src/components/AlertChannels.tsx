// Alert channels (admins): list with secrets masked, create, send a test message, switch
// off, remove. Secrets are typed once and never shown again.
import { useState } from "preact/hooks";
import { api } from "../api";
import { useI18n } from "../i18n";
import type { AlertChannel, ChannelTest, Json } from "../types";
import { Card, Empty, ErrorBox, Field, Raw, value } from "./ui";

const KINDS = ["dingtalk", "wecom", "feishu", "slack", "webhook", "email"] as const;

export function AlertChannelsCard() {
  const { t } = useI18n();
  const [channels, setChannels] = useState<AlertChannel[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [tests, setTests] = useState<Record<string, ChannelTest | "busy">>({});
  const load = async () => {
    try {
      setChannels((await api.get<{ items: AlertChannel[] }>("/api/alerts/channels")).items);
      setError(null);
    } catch (err) {
      setError(err);
    }
  };
  if (channels === null && error === null) void load();
  const test = async (name: string) => {
    setTests({ ...tests, [name]: "busy" });
    try {
      const result = await api.post<ChannelTest>(`/api/alerts/channels/${encodeURIComponent(name)}/test`, {});
      setTests((now) => ({ ...now, [name]: result }));
    } catch (err) {
      setError(err);
      setTests((now) => Object.fromEntries(Object.entries(now).filter(([k]) => k !== name)));
    }
  };
  const act = async (what: () => Promise<unknown>) => {
    try {
      await what();
      await load();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <>
      <NewChannel onCreated={load} />
      <Card title={t("alerts.channels")}>
        <ErrorBox error={error} />
        {channels !== null && channels.length === 0 ? <Empty>{t("alerts.noChannels")}</Empty> : null}
        {channels && channels.length ? (
          <table class="table compact" data-testid="channels-table">
            <thead>
              <tr>
                <th>{t("alerts.name")}</th>
                <th>{t("alerts.kind")}</th>
                <th>{t("alerts.language")}</th>
                <th>{t("alerts.target")}</th>
                <th>{t("alerts.usedBy")}</th>
                <th class="right">{t("jobs.actions")}</th>
              </tr>
            </thead>
            <tbody>
              {channels.map((c) => {
                const result = tests[c.name];
                return (
                  <tr key={c.name} data-channel={c.name}>
                    <td>
                      <Raw>{c.name}</Raw>
                      {c.enabled ? null : <span class="badge js-paused"> {t("alerts.off")}</span>}
                    </td>
                    <td>{t(`alerts.channelKind.${c.kind}` as "alerts.channelKind.email")}</td>
                    <td>{c.language}</td>
                    <td class="mono small">
                      <Raw>{String(c.fields.host ?? (c.fields.to as Json[] | undefined)?.join(", ") ?? "")}</Raw>
                      {c.fields.secret ? <span class="muted"> · {t("alerts.signed")}</span> : null}
                    </td>
                    <td class="small">
                      <Raw>{c.used_by.join(", ") || "-"}</Raw>
                    </td>
                    <td class="right nowrap">
                      {result && result !== "busy" ? (
                        <span class={`badge ${result.ok ? "st-succeeded" : "st-failed"}`} data-testid="test-result" title={result.error ?? result.response ?? ""}>
                          {result.ok ? t("alerts.testOk") : t("alerts.testFailed", { reason: result.error ?? "" })}
                        </span>
                      ) : null}{" "}
                      <button type="button" disabled={result === "busy"} onClick={() => test(c.name)} data-testid="send-test">
                        {t("alerts.sendTest")}
                      </button>{" "}
                      <button type="button" onClick={() => act(() => api.patch(`/api/alerts/channels/${encodeURIComponent(c.name)}`, { enabled: !c.enabled }))}>
                        {c.enabled ? t("alerts.switchOff") : t("alerts.switchOn")}
                      </button>{" "}
                      <button type="button" class="danger" onClick={() => act(() => api.del(`/api/alerts/channels/${encodeURIComponent(c.name)}`))}>
                        {t("jobs.delete")}
                      </button>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        ) : null}
      </Card>
    </>
  );
}

function NewChannel(props: { onCreated: () => void }) {
  const { t } = useI18n();
  const [name, setName] = useState("");
  const [kind, setKind] = useState<string>("dingtalk");
  const [language, setLanguage] = useState("zh-CN");
  const [url, setUrl] = useState("");
  const [secret, setSecret] = useState("");
  const [connection, setConnection] = useState("");
  const [to, setTo] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const email = kind === "email";
  const signs = kind === "dingtalk" || kind === "feishu" || kind === "webhook";
  const create = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    const fields: Record<string, Json> = email
      ? { connection, to: to.split(",").map((s) => s.trim()).filter(Boolean) }
      : { url, ...(signs && secret ? { secret } : {}) };
    try {
      await api.post("/api/alerts/channels", { name, kind, language, fields });
      setName("");
      setUrl("");
      setSecret("");
      setError(null);
      props.onCreated();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Card title={t("alerts.newChannel")}>
      <form class="inline-form" onSubmit={create} data-testid="new-channel">
        <Field label={t("alerts.name")} name="name">
          <input value={name} onInput={(e) => setName(value(e))} required class="mono" />
        </Field>
        <Field label={t("alerts.kind")} name="kind">
          <select value={kind} onChange={(e) => setKind(value(e))}>
            {KINDS.map((k) => (
              <option value={k} key={k}>
                {t(`alerts.channelKind.${k}` as "alerts.channelKind.email")}
              </option>
            ))}
          </select>
        </Field>
        <Field label={t("alerts.language")} name="language">
          <select value={language} onChange={(e) => setLanguage(value(e))}>
            <option value="zh-CN">简体中文</option>
            <option value="en">English</option>
          </select>
        </Field>
        {email ? (
          <>
            <Field label={t("alerts.smtpConnection")} name="connection">
              <input value={connection} onInput={(e) => setConnection(value(e))} required class="mono" />
            </Field>
            <Field label={t("alerts.recipients")} name="to">
              <input value={to} onInput={(e) => setTo(value(e))} required placeholder="ops@example.com" />
            </Field>
          </>
        ) : (
          <>
            <Field label={t("alerts.webhookUrl")} name="url" wide>
              <input value={url} onInput={(e) => setUrl(value(e))} required type="password" autoComplete="off" class="mono" />
            </Field>
            {signs ? (
              <Field label={t("alerts.signSecret")} name="secret">
                <input value={secret} onInput={(e) => setSecret(value(e))} type="password" autoComplete="off" />
              </Field>
            ) : null}
          </>
        )}
        <button type="submit" class="primary" disabled={busy}>
          {t("alerts.create")}
        </button>
      </form>
      <ErrorBox error={error} />
    </Card>
  );
}
