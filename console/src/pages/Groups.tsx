// Groups: the list (declared groups and the groups jobs name, with counts and your role in
// each), declaring one (admins), and a group's page: its defaults, members, jobs and the
// whole-group actions with their counted confirmation.
import { useEffect, useState } from "preact/hooks";
import { api, enc } from "../api";
import { GroupActions } from "../components/GroupActions";
import { Card, Dl, Empty, ErrorBox, Field, Link, Loading, Modal, Raw, StateBadge, Time, value } from "../components/ui";
import { useI18n } from "../i18n";
import { useCan } from "../session";
import type { Group, GroupMember, Job, Page } from "../types";

function RoleBadge(props: { role: string }) {
  const { t } = useI18n();
  return <span class={`badge role-${props.role}`}>{t(`role.${props.role}` as "role.viewer")}</span>;
}

export function GroupsPage() {
  const { t } = useI18n();
  const can = useCan();
  const [groups, setGroups] = useState<Group[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const [busy, setBusy] = useState(false);
  const [formError, setFormError] = useState<unknown>(null);

  const load = async () => {
    try {
      setGroups((await api.get<{ items: Group[] }>("/api/groups")).items);
    } catch (err) {
      setError(err);
    }
  };
  useEffect(() => {
    void load();
  }, []);

  const declare = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setFormError(null);
    try {
      await api.post("/api/groups", { name: name.trim(), description });
      setName("");
      setDescription("");
      await load();
    } catch (err) {
      setFormError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="page">
      <div class="page-head">
        <h1>{t("groups.title")}</h1>
      </div>
      <p class="muted">{t("groups.intro")}</p>
      <ErrorBox error={error} />
      {can("admin") ? (
        <Card title={t("groups.declare")}>
          <form class="inline-form" onSubmit={declare}>
            <Field label={t("groups.name")} name="group-name">
              <input value={name} onInput={(e) => setName(value(e))} required autoComplete="off" />
            </Field>
            <Field label={t("groups.description")} name="group-description" wide>
              <input value={description} onInput={(e) => setDescription(value(e))} autoComplete="off" />
            </Field>
            <button type="submit" class="primary" disabled={busy}>
              {t("groups.declareButton")}
            </button>
          </form>
          <ErrorBox error={formError} />
        </Card>
      ) : null}
      {groups === null ? (
        <Loading />
      ) : groups.length === 0 ? (
        <Empty>{t("groups.none")}</Empty>
      ) : (
        <table class="table" data-testid="groups-table">
          <thead>
            <tr>
              <th>{t("groups.group")}</th>
              <th>{t("groups.description")}</th>
              <th class="right">{t("groups.jobs")}</th>
              <th class="right">{t("groups.paused")}</th>
              <th>{t("groups.timezone")}</th>
              <th>{t("groups.owner")}</th>
              <th>{t("groups.yourRole")}</th>
            </tr>
          </thead>
          <tbody>
            {groups.map((g) => (
              <tr key={g.name} data-group={g.name}>
                <td>
                  <Link href={`/groups/${enc(g.name)}`}>
                    <Raw>{g.name}</Raw>
                  </Link>
                  {g.declared ? null : <span class="muted small"> ({t("groups.implicit")})</span>}
                </td>
                <td>
                  <Raw>{g.description}</Raw>
                </td>
                <td class="right">{g.jobs}</td>
                <td class="right">{g.paused}</td>
                <td>
                  <Raw>{g.timezone ?? ""}</Raw>
                </td>
                <td>
                  <Raw>{g.owner ?? ""}</Raw>
                </td>
                <td>
                  <RoleBadge role={g.your_role} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

export function GroupDetailPage(props: { name: string }) {
  const { t, lang } = useI18n();
  const can = useCan();
  const [group, setGroup] = useState<Group | null>(null);
  const [jobs, setJobs] = useState<Job[] | null>(null);
  const [members, setMembers] = useState<GroupMember[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [editing, setEditing] = useState(false);
  const path = `/api/groups/${enc(props.name)}`;

  const load = async () => {
    try {
      setGroup(await api.get<Group>(path));
      setJobs((await api.get<Page<Job>>("/api/jobs", { group: props.name, limit: 500 })).items);
      if (can("admin", props.name)) setMembers(await api.get<GroupMember[]>(`${path}/members`));
      setError(null);
    } catch (err) {
      setError(err);
    }
  };
  useEffect(() => {
    void load();
  }, [props.name]);

  if (error && !group) {
    return (
      <div class="page">
        <ErrorBox error={error} />
      </div>
    );
  }
  if (!group) return <Loading />;
  const defaults = Object.entries(group.defaults);
  return (
    <div class="page">
      <div class="page-head">
        <h1>
          <Raw>{group.name}</Raw> <RoleBadge role={group.your_role} />
        </h1>
        <div class="actions">
          {can("operator", group.name) ? (
            <GroupActions
              group={group.name}
              onDone={(message) => {
                setNotice(message);
                void load();
              }}
            />
          ) : null}
          {can("admin", group.name) ? (
            <button type="button" class="small" onClick={() => setEditing(true)} data-action="edit-group">
              {t("groups.edit")}
            </button>
          ) : null}
        </div>
      </div>
      {notice ? (
        <div class="alert info" role="status">
          {notice}
        </div>
      ) : null}
      <ErrorBox error={error} />
      <Card>
        <Dl
          items={[
            [t("groups.description"), group.description ? <Raw>{group.description}</Raw> : ""],
            [t("groups.owner"), group.owner ? <Raw>{group.owner}</Raw> : ""],
            [t("groups.timezone"), group.timezone ? <Raw>{group.timezone}</Raw> : ""],
            [
              t("groups.defaults"),
              defaults.length ? <code>{defaults.map(([k, v]) => `${k}=${String(v)}`).join(", ")}</code> : t("groups.noDefaults"),
            ],
            [t("groups.jobs"), `${group.jobs} (${t("groups.paused")}: ${group.paused})`],
            [t("job.updated"), group.updated_at ? <Time iso={group.updated_at} /> : ""],
          ]}
        />
      </Card>
      {members !== null ? (
        <Card title={t("groups.members")}>
          {members.length === 0 ? (
            <p class="muted">{t("groups.noMembers")}</p>
          ) : (
            <table class="table compact">
              <tbody>
                {members.map((m) => (
                  <tr key={m.user_id}>
                    <td>
                      <Raw>{m.username}</Raw>
                    </td>
                    <td>
                      <RoleBadge role={m.role} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </Card>
      ) : null}
      <Card title={t("groups.jobsOf")}>
        {jobs === null ? (
          <Loading />
        ) : jobs.length === 0 ? (
          <Empty>{t("jobs.none")}</Empty>
        ) : (
          <table class="table compact" data-testid="group-jobs">
            <thead>
              <tr>
                <th>{t("jobs.job")}</th>
                <th>{t("jobs.schedule")}</th>
                <th>{t("jobs.state")}</th>
                <th>{t("jobs.nextRun")}</th>
              </tr>
            </thead>
            <tbody>
              {jobs.map((job) => (
                <tr key={job.id} data-job={job.id}>
                  <td>
                    <Link href={`/jobs/${enc(job.id)}`}>
                      <Raw>{job.name}</Raw>
                    </Link>{" "}
                    <Raw class="muted small mono">{job.id}</Raw>
                  </td>
                  <td>{lang === "zh-CN" ? job.trigger.description.zh : job.trigger.description.en}</td>
                  <td>
                    <StateBadge state={job.state} />
                  </td>
                  <td class="nowrap">
                    <Time iso={job.next_fire_at} zone={job.timezone} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Card>
      {editing ? (
        <GroupEditor
          group={group}
          onClose={() => setEditing(false)}
          onSaved={(saved) => {
            setGroup(saved);
            setEditing(false);
          }}
        />
      ) : null}
    </div>
  );
}

function GroupEditor(props: { group: Group; onClose: () => void; onSaved: (g: Group) => void }) {
  const { t } = useI18n();
  const g = props.group;
  const text = (v: unknown) => (v === undefined || v === null ? "" : String(v));
  const [description, setDescription] = useState(g.description);
  const [owner, setOwner] = useState(g.owner ?? "");
  const [timezone, setTimezone] = useState(g.timezone ?? "");
  const [timeout, setTimeoutS] = useState(text(g.defaults.timeout_s));
  const [retries, setRetries] = useState(text(g.defaults.retries));
  const [misfire, setMisfire] = useState(text(g.defaults.misfire_policy));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const save = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const defaults: Record<string, unknown> = { ...g.defaults };
    const put = (k: string, v: unknown) => {
      if (v === "" || v === null) delete defaults[k];
      else defaults[k] = v;
    };
    put("timeout_s", timeout.trim() === "" ? "" : Number(timeout));
    put("retries", retries.trim() === "" ? "" : Number(retries));
    put("misfire_policy", misfire);
    try {
      const saved = await api.patch<Group>(`/api/groups/${enc(g.name)}`, {
        description,
        owner: owner.trim() || null,
        timezone: timezone.trim() || null,
        defaults,
        version: g.declared ? g.version : undefined,
      });
      props.onSaved(saved);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Modal title={t("groups.edit")} onClose={props.onClose} wide>
      <form onSubmit={save} class="group-editor">
        <Field label={t("groups.description")} name="description" wide>
          <input value={description} onInput={(e) => setDescription(value(e))} />
        </Field>
        <Field label={t("groups.owner")} hint={t("groups.ownerHint")} name="owner">
          <input value={owner} onInput={(e) => setOwner(value(e))} autoComplete="off" />
        </Field>
        <Field label={t("groups.timezone")} name="timezone">
          <input value={timezone} onInput={(e) => setTimezone(value(e))} placeholder="Asia/Shanghai" />
        </Field>
        <p class="muted small">{t("groups.defaultsHint")}</p>
        <Field label={t("editor.timeout")} name="timeout_s">
          <input type="number" min="0" step="any" value={timeout} onInput={(e) => setTimeoutS(value(e))} />
        </Field>
        <Field label={t("editor.retries")} name="retries">
          <input type="number" min="0" value={retries} onInput={(e) => setRetries(value(e))} />
        </Field>
        <Field label={t("editor.misfire")} name="misfire_policy">
          <select value={misfire} onChange={(e) => setMisfire(value(e))}>
            <option value="">–</option>
            {(["run_once", "run_all", "skip"] as const).map((m) => (
              <option value={m} key={m}>
                {t(`misfire.${m}`)}
              </option>
            ))}
          </select>
        </Field>
        <ErrorBox error={error} />
        <div class="modal-actions">
          <button type="button" onClick={props.onClose}>
            {t("common.cancel")}
          </button>
          <button type="submit" class="primary" disabled={busy}>
            {t("common.save")}
          </button>
        </div>
      </form>
    </Modal>
  );
}
