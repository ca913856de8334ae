// Your account: who you are and a password change (which ends your console sessions).
import { useState } from "preact/hooks";
import { api } from "../api";
import { Card, Dl, ErrorBox, Field, Time, value } from "../components/ui";
import { useI18n } from "../i18n";
import { useSession } from "../session";

export function AccountPage() {
  const { t } = useI18n();
  const me = useSession();
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api.post("/api/me/password", { current_password: current, new_password: next });
      me.logout();
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };

  return (
    <div class="page narrow">
      <h1>{t("nav.account")}</h1>
      <Card>
        <Dl
          items={[
            [t("login.username"), me.user.username],
            [t("users.role"), t(`role.${me.role}`)],
            [t("job.created"), <Time iso={me.user.created_at} />],
          ]}
        />
      </Card>
      <Card title={t("account.changePassword")}>
        <form onSubmit={submit} class="stack">
          <Field label={t("account.currentPassword")}>
            <input type="password" value={current} onInput={(e) => setCurrent(value(e))} required autoComplete="current-password" />
          </Field>
          <Field label={t("account.newPassword")} hint={t("account.hint")}>
            <input type="password" value={next} onInput={(e) => setNext(value(e))} required autoComplete="new-password" />
          </Field>
          <ErrorBox error={error} />
          <div>
            <button type="submit" class="primary" disabled={busy}>
              {t("account.changePassword")}
            </button>
          </div>
        </form>
      </Card>
    </div>
  );
}
