// The template gallery, and one template: a form generated from its parameter schema that
// makes a job, the jobs made from it, and the rollout of its current version with a preview.
import { useEffect, useState } from "preact/hooks";
import { api, ApiError, enc } from "../api";
import { Card, Empty, ErrorBox, errorText, Field, Link, Loading, Raw, value } from "../components/ui";
import { useI18n } from "../i18n";
import { covers, useSession } from "../session";
import type { Json } from "../types";
import type { Rollout, Template, TemplateJob, TemplateParameter } from "../types_workflows";

function text(b: { en: string; "zh-CN": string } | undefined, lang: string): string {
  if (!b) return "";
  return lang === "zh-CN" ? b["zh-CN"] || b.en : b.en;
}

const EXAMPLE = `{
  "name": "my-template",
  "title": {"en": "My template", "zh-CN": "我的模板"},
  "parameters": [
    {"name": "hour", "type": "integer", "default": 2, "minimum": 0, "maximum": 23,
     "help": {"en": "Hour of the day", "zh-CN": "每天的小时"}}
  ],
  "job": {
    "trigger": "H \${hour} * * *",
    "target": {"kind": "python", "ref": "app.tasks:report"}
  }
}`;

export function TemplatesPage() {
  const { t, lang } = useI18n();
  const session = useSession();
  const admin = covers(session.role, "admin");
  const [items, setItems] = useState<Template[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [editing, setEditing] = useState(false);
  const [source, setSource] = useState(EXAMPLE);
  const [saveError, setSaveError] = useState<unknown>(null);
  const load = () => {
    api
      .get<{ items: Template[] }>("/api/templates")
      .then((page) => setItems(page.items))
      .catch(setError);
  };
  useEffect(load, []);
  const save = async () => {
    setSaveError(null);
    let data: { name?: unknown };
    try {
      data = JSON.parse(source) as { name?: unknown };
    } catch (err) {
      setSaveError(err);
      return;
    }
    try {
      await api.put(`/api/templates/${enc(String(data.name ?? ""))}`, data);
      setEditing(false);
      load();
    } catch (err) {
      setSaveError(err);
    }
  };
  return (
    <div class="page" data-testid="templates-page">
      <div class="page-head">
        <h1>{t("templates.title")}</h1>
        {admin ? (
          <button type="button" onClick={() => setEditing(!editing)} data-testid="template-new">
            {t("templates.add")}
          </button>
        ) : null}
      </div>
      <p class="muted">{t("templates.intro")}</p>
      <ErrorBox error={error} />
      {editing ? (
        <Card title={t("templates.add")}>
          <p class="muted">{t("templates.addHint")}</p>
          <textarea class="mono template-source" rows={16} value={source} onInput={(e) => setSource(value(e))} aria-label={t("templates.add")} data-testid="template-source" />
          <ErrorBox error={saveError} />
          <div class="form-actions">
            <button type="button" class="primary" onClick={save} data-testid="template-save">
              {t("common.save")}
            </button>
          </div>
        </Card>
      ) : null}
      {items === null ? (
        error ? null : <Loading />
      ) : items.length === 0 ? (
        <Empty>{t("templates.none")}</Empty>
      ) : (
        <div class="gallery">
          {items.map((tpl) => (
            <Card key={tpl.name} class="template-card" title={text(tpl.title, lang)}>
              <p class="muted small">
                <span class="badge">{tpl.builtin ? t("templates.builtin") : t("templates.custom")}</span>{" "}
                <span class="mono" translate={false}>{tpl.name}</span> · {t("templates.version", { v: tpl.version })} · {t("templates.jobs", { n: tpl.jobs })}
              </p>
              <p>{text(tpl.description, lang)}</p>
              <Link href={`/templates/${enc(tpl.name)}`} class="button primary">
                {t("templates.use")}
              </Link>
            </Card>
          ))}
        </div>
      )}
    </div>
  );
}

function initial(p: TemplateParameter): string | boolean {
  if (p.type === "boolean") return p.default === true;
  return p.default === undefined || p.default === null ? "" : String(p.default);
}

function typed(p: TemplateParameter, raw: string | boolean): Json | undefined {
  if (p.type === "boolean") return raw === true;
  const s = String(raw).trim();
  if (s === "") return undefined;
  if (p.type === "integer" || p.type === "number") {
    const n = Number(s);
    return Number.isFinite(n) ? n : s; // the API names the field and the type
  }
  return String(raw);
}

export function TemplateDetailPage(props: { name: string }) {
  const { t, lang } = useI18n();
  const session = useSession();
  const admin = covers(session.role, "admin");
  const [tpl, setTpl] = useState<Template | null>(null);
  const [values, setValues] = useState<Record<string, string | boolean>>({});
  const [jobId, setJobId] = useState("");
  const [connections, setConnections] = useState<string[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [jobs, setJobs] = useState<TemplateJob[]>([]);
  const [rollout, setRollout] = useState<Rollout | null>(null);
  const [rolled, setRolled] = useState<string | null>(null);
  const [created, setCreated] = useState<string | null>(null);

  const loadJobs = () => {
    api.get<{ items: TemplateJob[] }>(`/api/templates/${enc(props.name)}/jobs`).then((p) => setJobs(p.items)).catch(() => undefined);
  };
  useEffect(() => {
    api
      .get<Template>(`/api/templates/${enc(props.name)}`)
      .then((found) => {
        setTpl(found);
        setValues(Object.fromEntries(found.parameters.map((p) => [p.name, initial(p)])));
      })
      .catch(setError);
    api.get<{ items: { name: string }[] }>("/api/connections").then((p) => setConnections(p.items.map((c) => c.name))).catch(() => undefined);
    loadJobs();
  }, [props.name]);

  if (tpl === null) return <div class="page">{error ? <ErrorBox error={error} /> : <Loading />}</div>;

  const fieldError = (name: string) =>
    error instanceof ApiError && error.field === `params.${name}` ? errorText(t, error, lang) : undefined;
  const generalError = error instanceof ApiError && error.field?.startsWith("params.") && tpl.parameters.some((p) => error.field === `params.${p.name}`) ? null : error;

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    const params: Record<string, Json> = {};
    for (const p of tpl.parameters) {
      const v = typed(p, values[p.name] ?? "");
      if (v !== undefined) params[p.name] = v;
    }
    try {
      await api.post(`/api/templates/${enc(tpl.name)}/jobs`, { id: jobId.trim(), params });
      setCreated(jobId.trim());
      setJobId("");
      loadJobs();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const set = (name: string, v: string | boolean) => setValues({ ...values, [name]: v });

  return (
    <div class="page" data-testid="template-detail">
      <div class="crumbs">
        <Link href="/templates">{t("templates.title")}</Link>
      </div>
      <div class="page-head">
        <h1>{text(tpl.title, lang)}</h1>
        <span class="badge">{t("templates.version", { v: tpl.version })}</span>
      </div>
      <p>{text(tpl.description, lang)}</p>
      <ErrorBox error={generalError} />
      {created ? (
        <p class="alert ok" data-testid="template-created">
          {t("templates.created")}{" "}
          <Link href={`/jobs/${enc(created)}`}>
            <Raw>{created}</Raw>
          </Link>
        </p>
      ) : null}
      <Card title={t("templates.newJob")}>
        <form class="form-grid" onSubmit={submit} data-testid="template-form">
          <Field label={t("templates.jobId")} name="id" error={error instanceof ApiError && error.field === "id" ? errorText(t, error, lang) : undefined}>
            <input required class="mono" value={jobId} onInput={(e) => setJobId(value(e))} name="id" />
          </Field>
          {tpl.parameters.map((p) => (
            <Field
              key={p.name}
              name={p.name}
              label={
                <>
                  {text(p.label, lang) || p.name}
                  {p.required ? <span class="required"> *</span> : null}
                </>
              }
              hint={text(p.help, lang) || undefined}
              error={fieldError(p.name)}
            >
              {p.type === "boolean" ? (
                <input type="checkbox" name={p.name} checked={values[p.name] === true} onChange={(e) => set(p.name, e.currentTarget.checked)} />
              ) : p.choices ? (
                <select name={p.name} value={String(values[p.name] ?? "")} onChange={(e) => set(p.name, value(e))}>
                  {p.required ? null : <option value="" />}
                  {p.choices.map((c) => (
                    <option value={String(c)} key={String(c)} translate={false}>
                      {String(c)}
                    </option>
                  ))}
                </select>
              ) : p.type === "connection" ? (
                <select name={p.name} value={String(values[p.name] ?? "")} onChange={(e) => set(p.name, value(e))} required={p.required}>
                  <option value="">{t("templates.chooseConnection")}</option>
                  {connections.map((c) => (
                    // a connection's name is data, never translated
                    <option value={c} key={c} translate={false}>
                      {c}
                    </option>
                  ))}
                </select>
              ) : (
                <input
                  name={p.name}
                  type={p.secret ? "password" : p.type === "integer" || p.type === "number" ? "number" : "text"}
                  step={p.type === "number" ? "any" : undefined}
                  min={p.minimum}
                  max={p.maximum}
                  maxLength={p.max_length}
                  autoComplete={p.secret ? "new-password" : "off"}
                  required={p.required}
                  value={String(values[p.name] ?? "")}
                  onInput={(e) => set(p.name, value(e))}
                />
              )}
            </Field>
          ))}
          <div class="form-actions">
            <button type="submit" class="primary" disabled={busy || !admin} title={admin ? undefined : t("templates.adminOnly")}>
              {busy ? t("common.saving") : t("templates.create")}
            </button>
          </div>
        </form>
      </Card>
      <Card
        title={t("templates.madeJobs", { n: jobs.length })}
        actions={
          jobs.length ? (
            <button
              type="button"
              onClick={() =>
                api
                  .get<Rollout>(`/api/templates/${enc(tpl.name)}/rollout`)
                  .then(setRollout)
                  .catch(setError)
              }
              data-testid="rollout-preview"
            >
              {t("templates.previewRollout")}
            </button>
          ) : null
        }
      >
        {jobs.length === 0 ? (
          <Empty>{t("templates.noJobs")}</Empty>
        ) : (
          <table class="table compact">
            <tbody>
              {jobs.map((j) => (
                <tr key={j.job_id}>
                  <td>
                    <Link href={`/jobs/${enc(j.job_id)}`}>
                      <Raw>{j.job_id}</Raw>
                    </Link>
                  </td>
                  <td>{t("templates.version", { v: j.version })}</td>
                  <td>{j.outdated ? <span class="badge warn">{t("templates.outdated")}</span> : null}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {rollout ? (
          <div data-testid="rollout">
            <h3 class="sub">{t("templates.rolloutTo", { v: rollout.version })}</h3>
            {rollout.items.map((item) => (
              <div key={item.job_id} class="rollout-item">
                <strong>
                  <Raw>{item.job_id}</Raw>
                </strong>{" "}
                {t("templates.fromTo", { from: item.from_version, to: item.to_version })}
                {item.error ? (
                  <div class="alert error">
                    <Raw>{item.error_field ?? ""}</Raw>: <Raw>{item.error}</Raw>
                  </div>
                ) : item.changes.length === 0 ? (
                  <span class="muted"> · {t("templates.noChange")}</span>
                ) : (
                  <table class="table compact diff">
                    <tbody>
                      {item.changes.map((c) => (
                        <tr key={c.field}>
                          <td class="mono">{c.field}</td>
                          <td class="mono del">{JSON.stringify(c.before)}</td>
                          <td class="mono ins">{JSON.stringify(c.after)}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                )}
              </div>
            ))}
            {admin ? (
              <button
                type="button"
                class="primary"
                disabled={rollout.items.some((i) => i.error)}
                onClick={() =>
                  api
                    .post<Rollout>(`/api/templates/${enc(tpl.name)}/rollout`, {})
                    .then((done) => {
                      setRolled(t("templates.rolled", { n: done.items.length, v: done.version }));
                      setRollout(null);
                      loadJobs();
                    })
                    .catch(setError)
                }
                data-testid="rollout-apply"
              >
                {t("templates.applyRollout")}
              </button>
            ) : null}
          </div>
        ) : null}
        {rolled ? <p class="alert ok">{rolled}</p> : null}
      </Card>
    </div>
  );
}
