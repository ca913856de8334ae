// Users (admins): create, change role, disable, set a new password, delete, and their roles
// in single groups (grants).
import { useEffect, useState } from "preact/hooks";
import { api, enc } from "../api";
import { Card, Confirm, ErrorBox, Field, Modal, Raw, Time, value } from "../components/ui";
import { useI18n } from "../i18n";
import { useSession } from "../session";
import { ROLES } from "../types";
import type { GrantRole, Grants, Role, User } from "../types";

export function UsersPage() {
  const { t } = useI18n();
  const me = useSession();
  const [users, setUsers] = useState<User[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [name, setName] = useState("");
  const [password, setPassword] = useState("");
  const [role, setRole] = useState<Role>("viewer");
  const [createError, setCreateError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [deleting, setDeleting] = useState<User | null>(null);
  const [resetting, setResetting] = useState<User | null>(null);
  const [granting, setGranting] = useState<User | null>(null);
  const [newPassword, setNewPassword] = useState("");
  const [dialogError, setDialogError] = useState<unknown>(null);

  const load = async () => {
    try {
      setUsers(await api.get<User[]>("/api/users"));
    } catch (err) {
      setError(err);
    }
  };
  useEffect(() => void load(), []);

  const act = async (what: () => Promise<unknown>) => {
    setBusy(true);
    setError(null);
    try {
      await what();
      await load();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const create = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setCreateError(null);
    try {
      await api.post<User>("/api/users", { username: name.trim(), password, role });
      setName("");
      setPassword("");
      await load();
    } catch (err) {
      setCreateError(err);
    } finally {
      setBusy(false);
    }
  };

  const dialog = async (what: () => Promise<unknown>, close: () => void) => {
    setBusy(true);
    try {
      await what();
      close();
      setDialogError(null);
      await load();
    } catch (err) {
      setDialogError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="page">
      <div class="page-head">
        <h1>{t("users.title")}</h1>
      </div>
      <ErrorBox error={error} />
      <Card title={t("users.create")}>
        <form class="inline-form" onSubmit={create}>
          <Field label={t("login.username")} name="new-username">
            <input value={name} onInput={(e) => setName(value(e))} required autoComplete="off" />
          </Field>
          <Field label={t("login.password")} hint={t("users.passwordHint")} name="new-password">
            <input type="password" value={password} onInput={(e) => setPassword(value(e))} required autoComplete="new-password" />
          </Field>
          <Field label={t("users.role")} name="new-role">
            <select value={role} onChange={(e) => setRole(value(e) as Role)}>
              {ROLES.map((r) => (
                <option value={r} key={r}>
                  {t(`role.${r}`)}
                </option>
              ))}
            </select>
          </Field>
          <button type="submit" class="primary" disabled={busy}>
            {t("users.createButton")}
          </button>
        </form>
        <ErrorBox error={createError} />
      </Card>
      <Card title={t("users.list")}>
        <table class="table compact">
          <thead>
            <tr>
              <th>{t("login.username")}</th>
              <th>{t("users.role")}</th>
              <th>{t("users.state")}</th>
              <th>{t("job.created")}</th>
              <th class="right">{t("jobs.actions")}</th>
            </tr>
          </thead>
          <tbody>
            {(users ?? []).map((u) => {
              const self = u.id === me.user.id;
              return (
                <tr key={u.id}>
                  <td>
                    <Raw>{u.username}</Raw>
                    {self ? <span class="muted small"> ({t("users.you")})</span> : null}
                  </td>
                  <td>
                    <select
                      value={u.role}
                      disabled={self || busy}
                      aria-label={t("users.role")}
                      onChange={(e) => act(() => api.patch(`/api/users/${u.id}`, { role: value(e) }))}
                    >
                      {ROLES.map((r) => (
                        <option value={r} key={r}>
                          {t(`role.${r}`)}
                        </option>
                      ))}
                    </select>
                  </td>
                  <td>{u.disabled ? <span class="badge st-cancelled">{t("users.disabled")}</span> : <span class="badge st-succeeded">{t("users.active")}</span>}</td>
                  <td class="nowrap">
                    <Time iso={u.created_at} /> <Raw class="muted small">{u.created_by}</Raw>
                  </td>
                  <td class="right">
                    <div class="actions compact">
                      <button type="button" class="small" disabled={self || busy} onClick={() => act(() => api.patch(`/api/users/${u.id}`, { disabled: !u.disabled }))}>
                        {u.disabled ? t("users.enable") : t("users.disable")}
                      </button>
                      <button type="button" class="small" onClick={() => setResetting(u)}>
                        {t("users.setPassword")}
                      </button>
                      <button type="button" class="small" disabled={self} onClick={() => setGranting(u)} data-action="grants">
                        {t("groups.grants")}
                      </button>
                      <button type="button" class="small danger-outline" disabled={self} onClick={() => setDeleting(u)}>
                        {t("jobs.delete")}
                      </button>
                    </div>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </Card>
      {deleting ? (
        <Confirm
          title={t("users.deleteTitle")}
          message={t("users.deleteConfirm", { name: deleting.username })}
          confirmLabel={t("jobs.delete")}
          danger
          busy={busy}
          error={dialogError}
          onConfirm={() => dialog(() => api.del(`/api/users/${deleting.id}`), () => setDeleting(null))}
          onCancel={() => {
            setDeleting(null);
            setDialogError(null);
          }}
        />
      ) : null}
      {granting ? <GrantsDialog user={granting} onClose={() => setGranting(null)} /> : null}
      {resetting ? (
        <Modal title={t("users.setPasswordFor", { name: resetting.username })} onClose={() => setResetting(null)}>
          <form
            onSubmit={(e) => {
              e.preventDefault();
              void dialog(
                () => api.patch(`/api/users/${resetting.id}`, { password: newPassword }),
                () => {
                  setResetting(null);
                  setNewPassword("");
                },
              );
            }}
          >
            <Field label={t("account.newPassword")} hint={t("users.passwordHint")}>
              <input type="password" value={newPassword} onInput={(e) => setNewPassword(value(e))} required autoComplete="new-password" />
            </Field>
            <ErrorBox error={dialogError} />
            <div class="modal-actions">
              <button type="button" onClick={() => setResetting(null)}>
                {t("common.cancel")}
              </button>
              <button type="submit" class="primary" disabled={busy}>
                {t("common.save")}
              </button>
            </div>
          </form>
        </Modal>
      ) : null}
    </div>
  );
}

const GRANT_ROLES: GrantRole[] = ["none", "viewer", "operator", "admin"];

/** A user's roles in single groups: each replaces their global role in its group. */
function GrantsDialog(props: { user: User; onClose: () => void }) {
  const { t } = useI18n();
  const [grants, setGrants] = useState<Grants | null>(null);
  const [group, setGroup] = useState("");
  const [role, setRole] = useState<GrantRole>("operator");
  const [error, setError] = useState<unknown>(null);
  const base = `/api/users/${props.user.id}/grants`;
  const act = async (what: () => Promise<Grants | undefined>) => {
    setError(null);
    try {
      const out = await what();
      setGrants(out ?? (await api.get<Grants>(base)));
    } catch (err) {
      setError(err);
    }
  };
  useEffect(() => void act(() => api.get<Grants>(base)), [props.user.id]);
  const entries = Object.entries(grants?.grants ?? {});
  return (
    <Modal title={t("groups.grantsFor", { name: props.user.username })} onClose={props.onClose}>
      <p class="muted">{t("groups.grantsIntro", { name: props.user.username, role: t(`role.${props.user.role}`) })}</p>
      {entries.length === 0 ? (
        <p class="muted">{t("groups.noGrants")}</p>
      ) : (
        <table class="table compact" data-testid="grants">
          <tbody>
            {entries.map(([g, r]) => (
              <tr key={g} data-grant={g}>
                <td>
                  <Raw>{g}</Raw>
                </td>
                <td>
                  <select
                    value={r}
                    aria-label={t("users.role")}
                    onChange={(e) => void act(() => api.put<Grants>(`${base}/${enc(g)}`, { role: value(e) }))}
                  >
                    {GRANT_ROLES.map((x) => (
                      <option value={x} key={x}>
                        {t(`role.${x}`)}
                      </option>
                    ))}
                  </select>
                </td>
                <td class="right">
                  <button type="button" class="small danger-outline" onClick={() => void act(async () => (await api.del(`${base}/${enc(g)}`), undefined))}>
                    {t("groups.grantRemove")}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <form
        class="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          void act(() => api.put<Grants>(`${base}/${enc(group.trim())}`, { role })).then(() => setGroup(""));
        }}
      >
        <Field label={t("groups.group")} name="grant-group">
          <input value={group} onInput={(e) => setGroup(value(e))} required autoComplete="off" />
        </Field>
        <Field label={t("users.role")} name="grant-role">
          <select value={role} onChange={(e) => setRole(value(e) as GrantRole)}>
            {GRANT_ROLES.map((x) => (
              <option value={x} key={x}>
                {t(`role.${x}`)}
              </option>
            ))}
          </select>
        </Field>
        <button type="submit" class="primary">
          {t("groups.grantAdd")}
        </button>
      </form>
      <ErrorBox error={error} />
      <div class="modal-actions">
        <button type="button" onClick={props.onClose}>
          {t("common.close")}
        </button>
      </div>
    </Modal>
  );
}
