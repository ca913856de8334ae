// API tokens: your own (admins may list everyone's). A new token is shown once.
import { useEffect, useState } from "preact/hooks";
import { api } from "../api";
import { Card, Confirm, ErrorBox, Field, Raw, Time, value } from "../components/ui";
import { useI18n } from "../i18n";
import { covers, highest, useSession } from "../session";
import { ROLES } from "../types";
import type { Role, Token, TokenCreated } from "../types";

export function TokensPage() {
  const { t } = useI18n();
  const me = useSession();
  const admin = covers(me.role, "admin");
  const [all, setAll] = useState(false);
  const [tokens, setTokens] = useState<Token[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [name, setName] = useState("");
  const [role, setRole] = useState<Role>(highest(me)); // a token may carry a group role
  const [days, setDays] = useState("90");
  const [created, setCreated] = useState<TokenCreated | null>(null);
  const [copied, setCopied] = useState(false);
  const [busy, setBusy] = useState(false);
  const [createError, setCreateError] = useState<unknown>(null);
  const [revoking, setRevoking] = useState<Token | null>(null);
  const [revokeError, setRevokeError] = useState<unknown>(null);

  const load = async () => {
    try {
      setTokens(await api.get<Token[]>("/api/tokens", { all: admin && all ? "true" : undefined }));
    } catch (err) {
      setError(err);
    }
  };
  useEffect(() => void load(), [all]);

  const create = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setCreateError(null);
    setCopied(false);
    try {
      const n = Number(days);
      const expires = days.trim() && n > 0 ? new Date(Date.now() + n * 86400 * 1000).toISOString() : null;
      setCreated(await api.post<TokenCreated>("/api/tokens", { name: name.trim(), role, expires_at: expires }));
      setName("");
      await load();
    } catch (err) {
      setCreateError(err);
    } finally {
      setBusy(false);
    }
  };

  const revoke = async () => {
    if (!revoking) return;
    setBusy(true);
    try {
      await api.del(`/api/tokens/${encodeURIComponent(revoking.id)}`);
      setRevoking(null);
      await load();
    } catch (err) {
      setRevokeError(err);
    } finally {
      setBusy(false);
    }
  };

  const allowedRoles = ROLES.filter((r) => covers(highest(me), r));

  return (
    <div class="page">
      <div class="page-head">
        <h1>{t("tokens.title")}</h1>
      </div>
      <p class="muted">{t("tokens.intro")}</p>
      <ErrorBox error={error} />
      <Card title={t("tokens.create")}>
        <form class="inline-form" onSubmit={create}>
          <Field label={t("tokens.name")} name="token-name">
            <input value={name} onInput={(e) => setName(value(e))} required autoComplete="off" />
          </Field>
          <Field label={t("users.role")} name="token-role">
            <select value={role} onChange={(e) => setRole(value(e) as Role)}>
              {allowedRoles.map((r) => (
                <option value={r} key={r}>
                  {t(`role.${r}`)}
                </option>
              ))}
            </select>
          </Field>
          <Field label={t("tokens.expiresDays")} hint={t("tokens.expiresHint")} name="token-days">
            <input type="number" min="0" value={days} onInput={(e) => setDays(value(e))} />
          </Field>
          <button type="submit" class="primary" disabled={busy}>
            {t("tokens.createButton")}
          </button>
        </form>
        <ErrorBox error={createError} />
        {created ? (
          <div class="token-once" role="status">
            <strong>{t("tokens.once")}</strong>
            <div class="token-row">
              <code class="token" data-testid="new-token">
                {created.token}
              </code>
              <button
                type="button"
                class="small"
                onClick={() => {
                  void navigator.clipboard?.writeText(created.token).then(() => setCopied(true));
                }}
              >
                {copied ? t("tokens.copied") : t("tokens.copy")}
              </button>
              <button type="button" class="small" onClick={() => setCreated(null)}>
                {t("tokens.done")}
              </button>
            </div>
          </div>
        ) : null}
      </Card>
      <Card
        title={t("tokens.list")}
        actions={
          admin ? (
            <label class="check">
              <input type="checkbox" checked={all} onChange={(e) => setAll(e.currentTarget.checked)} /> {t("tokens.all")}
            </label>
          ) : null
        }
      >
        <table class="table compact">
          <thead>
            <tr>
              <th>{t("tokens.name")}</th>
              <th>{t("tokens.user")}</th>
              <th>{t("users.role")}</th>
              <th>{t("job.created")}</th>
              <th>{t("tokens.expires")}</th>
              <th>{t("tokens.lastUsed")}</th>
              <th>{t("users.state")}</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {(tokens ?? []).map((tk) => (
              <tr key={tk.id}>
                <td>
                  <Raw>{tk.name}</Raw>
                </td>
                <td>
                  <Raw>{tk.username}</Raw>
                </td>
                <td>{t(`role.${tk.role}`)}</td>
                <td class="nowrap">
                  <Time iso={tk.created_at} />
                </td>
                <td class="nowrap">{tk.expires_at ? <Time iso={tk.expires_at} /> : t("tokens.never")}</td>
                <td class="nowrap">
                  <Time iso={tk.last_used_at} />
                </td>
                <td>{tk.active ? <span class="badge st-succeeded">{t("users.active")}</span> : <span class="badge st-cancelled">{tk.revoked_at ? t("tokens.revoked") : t("tokens.expired")}</span>}</td>
                <td class="right">
                  {tk.active ? (
                    <button type="button" class="small danger-outline" onClick={() => setRevoking(tk)}>
                      {t("tokens.revoke")}
                    </button>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </Card>
      {revoking ? (
        <Confirm
          title={t("tokens.revoke")}
          message={t("tokens.revokeConfirm", { name: revoking.name })}
          confirmLabel={t("tokens.revoke")}
          danger
          busy={busy}
          error={revokeError}
          onConfirm={revoke}
          onCancel={() => {
            setRevoking(null);
            setRevokeError(null);
          }}
        />
      ) : null}
    </div>
  );
}
