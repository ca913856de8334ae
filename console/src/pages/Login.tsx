import { useState } from "preact/hooks";
import { api, ApiError } from "../api";
import { ErrorBox, value } from "../components/ui";
import { LANGS, useI18n } from "../i18n";
import type { Lang } from "../i18n";
import type { LoginOut } from "../types";

export function LoginPage(props: { onLogin: (out: LoginOut) => void }) {
  const { t, lang, setLang } = useI18n();
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      props.onLogin(await api.post<LoginOut>("/api/auth/login", { username, password }));
    } catch (err) {
      setError(err instanceof ApiError && err.status === 401 ? new Error(t("login.failed")) : err);
      setBusy(false);
    }
  };

  return (
    <div class="login-wrap">
      <form class="login card" onSubmit={submit}>
        <div class="login-head">
          <span class="brand">
            <span class="logo" aria-hidden="true" />
            Tickwork
          </span>
          <select aria-label={t("nav.language")} value={lang} onChange={(e) => setLang(e.currentTarget.value as Lang)} data-testid="lang">
            {LANGS.map((l) => (
              <option value={l} key={l} translate={false}>
                {l === "en" ? "English" : "简体中文"}
              </option>
            ))}
          </select>
        </div>
        <h1>{t("login.title")}</h1>
        <label class="field">
          <span class="label">{t("login.username")}</span>
          <input name="username" autoComplete="username" value={username} onInput={(e) => setUsername(value(e))} required autoFocus />
        </label>
        <label class="field">
          <span class="label">{t("login.password")}</span>
          <input
            name="password"
            type="password"
            autoComplete="current-password"
            value={password}
            onInput={(e) => setPassword(value(e))}
            required
          />
        </label>
        <ErrorBox error={error} />
        <button type="submit" class="primary" disabled={busy}>
          {busy ? t("common.loading") : t("login.submit")}
        </button>
        <p class="muted small">
          {t("login.hint")} <code>tickwork users create-admin NAME</code>
        </p>
      </form>
    </div>
  );
}
