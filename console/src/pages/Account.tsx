// Your account: who you are, the zone times are shown in, and a password change (which ends
// your console sessions).
import { useMemo, useState } from "preact/hooks";
import { api } from "../api";
import { Card, Dl, ErrorBox, Field, Raw, Time, value } from "../components/ui";
import { browserZone, timeZones } from "../format";
import { useI18n } from "../i18n";
import { useSession } from "../session";

export function AccountPage() {
  const { t, zone, setZone } = useI18n();
  const me = useSession();
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const zones = useMemo(timeZones, []);

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
            [t("login.username"), <Raw>{me.user.username}</Raw>],
            [t("users.role"), t(`role.${me.role}`)],
            [t("job.created"), <Time iso={me.user.created_at} />],
          ]}
        />
      </Card>
      <Card title={t("account.display")}>
        <Field label={t("account.zone")} hint={t("account.zoneHint")} name="display-zone">
          <select value={zone} onChange={(e) => setZone(value(e))} data-testid="display-zone">
            <option value={browserZone} translate={false}>
              {t("account.browserZone", { zone: browserZone })}
            </option>
            {zones
              .filter((z) => z !== browserZone)
              .map((z) => (
                <option value={z} key={z} translate={false}>
                  {z}
                </option>
              ))}
          </select>
        </Field>
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
