// Scripts (issue 17): code written here, stored with immutable versions. The list; one
// script's editor (CodeMirror, loaded on demand) where every save is a new version with a
// message; its history with author, time and message; a diff between two versions; rollback
// (a new version holding an older one's code). Changing anything is for admins.
import type { ComponentChildren } from "preact";
import { useEffect, useState } from "preact/hooks";
import { api, ApiError, enc } from "../api";
import { CodeEditor } from "../components/CodeEditor";
import { Card, Confirm, RAW, WithRaw, Empty, ErrorBox, Field, Link, Loading, PartsText, Raw, Time, value } from "../components/ui";
import { useI18n } from "../i18n";
import { localProblemParts } from "../i18n/problems";
import type { Script, ScriptDiff, ScriptVersion } from "../kinds";
import { navigate } from "../router";
import { useCan } from "../session";

export function ScriptsPage() {
  const { t } = useI18n();
  const can = useCan();
  const [scripts, setScripts] = useState<Script[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    api
      .get<{ items: Script[] }>("/api/scripts")
      .then((s) => setScripts(s.items))
      .catch(setError);
  }, []);
  return (
    <div class="page">
      <div class="page-head">
        <h1>{t("nav.scripts")}</h1>
        {can("admin") ? (
          <Link href="/scripts/new" class="button primary">
            {t("scripts.new")}
          </Link>
        ) : null}
      </div>
      <p class="muted">{t("scripts.intro")}</p>
      <ErrorBox error={error} />
      {scripts === null ? (
        error ? null : <Loading />
      ) : scripts.length === 0 ? (
        <Empty>{t("scripts.none")}</Empty>
      ) : (
        <table class="table" data-testid="scripts-table">
          <thead>
            <tr>
              <th>{t("scripts.name")}</th>
              <th>{t("scripts.language")}</th>
              <th>{t("scripts.latest")}</th>
              <th>{t("scripts.updated")}</th>
              <th>{t("scripts.usedBy")}</th>
            </tr>
          </thead>
          <tbody>
            {scripts.map((s) => (
              <tr key={s.name} data-script={s.name}>
                <td>
                  <Link href={`/scripts/${enc(s.name)}`}>
                    <Raw class="mono">{s.name}</Raw>
                  </Link>
                  {s.description ? <div class="muted small"><Raw>{s.description}</Raw></div> : null}
                </td>
                <td>{languageLabel(s.language)}</td>
                <td>v{s.latest_version}</td>
                <td>
                  <Time iso={s.updated_at} /> {s.updated_by ? <Raw class="muted">· {s.updated_by}</Raw> : null}
                </td>
                <td>{s.used_by.length ? <JobLinks ids={s.used_by} /> : <span class="muted">–</span>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

/** A script's language: its own name (python, bash), never translated. */
function languageLabel(language: string) {
  return <Raw class="mono">{language}</Raw>;
}

export function JobLinks(props: { ids: string[] }) {
  return (
    <span class="job-links">
      {props.ids.map((id, i) => (
        <span key={id}>
          {i ? ", " : ""}
          <Link href={`/jobs/${enc(id)}`}>
            <Raw class="mono">{id}</Raw>
          </Link>
        </span>
      ))}
    </span>
  );
}

type Errors = Record<string, ComponentChildren>;

/** Which field a refusal names (``name``, ``body.code`` -> code). */
function fieldName(field: string | null): string {
  return (field ?? "").replace(/^body\./, "").split(".")[0] ?? "";
}

const STARTERS: Record<"python" | "bash", string> = {
  python: 'def main():\n    print("hello from a script")\n\n\nmain()\n',
  bash: 'set -eu\necho "hello from a script"\n',
};

export function ScriptPage(props: { name: string | null }) {
  const { t, lang } = useI18n();
  const can = useCan();
  const admin = can("admin");
  const [script, setScript] = useState<Script | null>(null);
  const [history, setHistory] = useState<ScriptVersion[]>([]);
  const [code, setCode] = useState(props.name ? "" : STARTERS.python);
  const [loadedCode, setLoadedCode] = useState(props.name ? "" : STARTERS.python);
  const [name, setName] = useState("");
  const [language, setLanguage] = useState<"python" | "bash">("python");
  const [description, setDescription] = useState("");
  const [message, setMessage] = useState("");
  const [errors, setErrors] = useState<Errors>({});
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState<string | null>(null);
  const [diffFrom, setDiffFrom] = useState(0);
  const [diffTo, setDiffTo] = useState(0);
  const [diff, setDiff] = useState<ScriptDiff | null>(null);
  const [diffError, setDiffError] = useState<unknown>(null);
  const [rollback, setRollback] = useState<ScriptVersion | null>(null);
  const [removing, setRemoving] = useState(false);
  const [dialogError, setDialogError] = useState<unknown>(null);

  const load = async (keepDraft = false) => {
    if (!props.name) return;
    try {
      const [s, h] = await Promise.all([
        api.get<Script>(`/api/scripts/${enc(props.name)}`),
        api.get<{ items: ScriptVersion[] }>(`/api/scripts/${enc(props.name)}/versions`),
      ]);
      setScript(s);
      setHistory(h.items);
      setLanguage(s.language);
      setDescription(s.description);
      const latest = s.latest?.code ?? "";
      if (!keepDraft) {
        setCode(latest);
        setLoadedCode(latest);
      }
      setDiffTo(s.latest_version);
      setDiffFrom(Math.max(1, s.latest_version - 1));
      setError(null);
    } catch (err) {
      setError(err);
    }
  };
  useEffect(() => void load(), [props.name]);

  const refused = (err: unknown) => {
    if (err instanceof ApiError && err.status === 422 && err.field) {
      const field = fieldName(err.field);
      if (["name", "code", "message", "description", "language"].includes(field)) {
        setErrors({ [field]: <PartsText parts={localProblemParts(lang, err, null)} /> });
        return;
      }
    }
    setError(err);
  };

  const save = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setErrors({});
    setError(null);
    setSaved(null);
    try {
      if (!props.name) {
        if (!name.trim()) {
          setErrors({ name: t("editor.required") });
          return;
        }
        await api.post<Script>("/api/scripts", { name: name.trim(), language, code, message, description });
        navigate(`/scripts/${enc(name.trim())}`);
        return;
      }
      const before = script?.latest_version ?? 0;
      const version = await api.post<ScriptVersion>(`/api/scripts/${enc(props.name)}/versions`, { code, message, description });
      setSaved(version.version > before ? t("scripts.savedVersion", { version: version.version }) : t("scripts.unchanged"));
      setMessage("");
      await load();
    } catch (err) {
      refused(err);
    } finally {
      setBusy(false);
    }
  };

  const showDiff = async () => {
    if (!props.name) return;
    setDiffError(null);
    try {
      setDiff(await api.get<ScriptDiff>(`/api/scripts/${enc(props.name)}/diff`, { from: diffFrom, to: diffTo }));
    } catch (err) {
      setDiff(null);
      setDiffError(err);
    }
  };

  const doRollback = async () => {
    if (!props.name || !rollback) return;
    setBusy(true);
    try {
      const version = await api.post<ScriptVersion>(`/api/scripts/${enc(props.name)}/rollback`, { version: rollback.version });
      setRollback(null);
      setDialogError(null);
      setSaved(t("scripts.rolledBack", { version: version.version, from: rollback.version }));
      setDiff(null);
      await load();
    } catch (err) {
      setDialogError(err);
    } finally {
      setBusy(false);
    }
  };

  const remove = async () => {
    if (!props.name) return;
    setBusy(true);
    try {
      await api.del(`/api/scripts/${enc(props.name)}`);
      navigate("/scripts");
    } catch (err) {
      setDialogError(err);
    } finally {
      setBusy(false);
    }
  };

  if (props.name && !script) return error ? <div class="page"><ErrorBox error={error} /></div> : <Loading />;
  if (!props.name && !admin) return <div class="page"><div class="alert error">{t("error.adminOnly")}</div></div>;
  const dirty = code !== loadedCode;

  return (
    <div class="page script-page">
      <div class="page-head">
        <div>
          <div class="crumbs">
            <Link href="/scripts">{t("nav.scripts")}</Link> /
          </div>
          <h1>
            {props.name ? <Raw class="mono">{props.name}</Raw> : t("scripts.new")}
            {script ? <span class="badge">{languageLabel(script.language)} · v{script.latest_version}</span> : null}
          </h1>
        </div>
        {props.name && admin ? (
          <div class="actions">
            <button type="button" class="danger-outline" onClick={() => { setDialogError(null); setRemoving(true); }} data-action="delete-script">
              {t("scripts.delete")}
            </button>
          </div>
        ) : null}
      </div>
      <ErrorBox error={error} />
      {saved ? <div class="alert info" role="status" data-testid="script-saved">{saved}</div> : null}
      {!admin ? <div class="alert info" role="status">{t("scripts.readOnly")}</div> : null}
      <form onSubmit={save} novalidate>
        <Card title={props.name ? t("scripts.code") : t("scripts.newTitle")}>
          {props.name ? null : (
            <div class="fields">
              <Field label={t("scripts.name")} error={errors.name} hint={t("scripts.nameHint")} name="name">
                <input name="name" class="mono" value={name} onInput={(e) => setName(value(e))} autoComplete="off" />
              </Field>
              <Field label={t("scripts.language")} error={errors.language} name="language">
                <select
                  name="language"
                  value={language}
                  onChange={(e) => {
                    const next = value(e) as "python" | "bash";
                    if (code === STARTERS[language]) {
                      setCode(STARTERS[next]);
                      setLoadedCode(STARTERS[next]);
                    }
                    setLanguage(next);
                  }}
                >
                  <option value="python" translate={false}>python</option>
                  <option value="bash" translate={false}>bash</option>
                </select>
              </Field>
            </div>
          )}
          <div class="fields">
            <Field label={t("scripts.description")} error={errors.description} wide name="description">
              <input name="description" value={description} onInput={(e) => setDescription(value(e))} disabled={!admin} />
            </Field>
          </div>
          <div class={`field${errors.code ? " invalid" : ""}`} data-field="code">
            <CodeEditor value={loadedCode} language={language} readOnly={!admin} label={t("scripts.code")} onChange={setCode} key={`${language}-${admin}`} />
            {errors.code ? <span class="field-error" role="alert">{errors.code}</span> : null}
          </div>
          {admin ? (
            <div class="fields">
              <Field label={t("scripts.message")} error={errors.message} hint={t("scripts.messageHint")} wide name="message">
                <input name="message" value={message} onInput={(e) => setMessage(value(e))} maxLength={500} autoComplete="off" />
              </Field>
            </div>
          ) : null}
          {admin ? (
            <div class="form-actions">
              {dirty ? <span class="muted small">{t("scripts.unsaved")}</span> : null}
              <button type="submit" class="primary" disabled={busy} data-action="save-script">
                {busy ? t("common.saving") : props.name ? t("scripts.saveVersion") : t("editor.create")}
              </button>
            </div>
          ) : null}
        </Card>
      </form>
      {script ? (
        <div class="grid-2">
          <Card title={t("scripts.history")}>
            <table class="table compact" data-testid="script-history">
              <thead>
                <tr>
                  <th>{t("scripts.version")}</th>
                  <th>{t("scripts.author")}</th>
                  <th>{t("scripts.time")}</th>
                  <th>{t("scripts.message")}</th>
                  {admin ? <th /> : null}
                </tr>
              </thead>
              <tbody>
                {history.map((v) => (
                  <tr key={v.version} data-version={v.version}>
                    <td>v{v.version}</td>
                    <td>{v.author ? <Raw>{v.author}</Raw> : <span class="muted">–</span>}</td>
                    <td><Time iso={v.created_at} /></td>
                    <td>{v.message ? <Raw>{v.message}</Raw> : <span class="muted">–</span>}</td>
                    {admin ? (
                      <td class="right">
                        {v.version !== script.latest_version ? (
                          <button type="button" class="small" onClick={() => { setDialogError(null); setRollback(v); }} data-action="rollback">
                            {t("scripts.rollback")}
                          </button>
                        ) : (
                          <span class="muted small">{t("scripts.current")}</span>
                        )}
                      </td>
                    ) : null}
                  </tr>
                ))}
              </tbody>
            </table>
          </Card>
          <Card title={t("scripts.diff")}>
            <div class="inline-form diff-pick">
              <label>
                <span class="label">{t("scripts.diffFrom")}</span>{" "}
                <select name="diff-from" value={String(diffFrom)} onChange={(e) => setDiffFrom(Number(value(e)))}>
                  {history.map((v) => <option value={String(v.version)} key={v.version}>v{v.version}</option>)}
                </select>
              </label>{" "}
              <label>
                <span class="label">{t("scripts.diffTo")}</span>{" "}
                <select name="diff-to" value={String(diffTo)} onChange={(e) => setDiffTo(Number(value(e)))}>
                  {history.map((v) => <option value={String(v.version)} key={v.version}>v{v.version}</option>)}
                </select>
              </label>{" "}
              <button type="button" onClick={showDiff} data-action="show-diff">
                {t("scripts.showDiff")}
              </button>
            </div>
            <ErrorBox error={diffError} />
            {diff ? (
              diff.diff ? (
                <pre class="box diff" data-testid="script-diff">
                  {diff.diff.split("\n").map((line, i) => (
                    <span key={i} class={line.startsWith("+") && !line.startsWith("+++") ? "add" : line.startsWith("-") && !line.startsWith("---") ? "del" : line.startsWith("@@") ? "hunk" : ""}>
                      {line}
                      {"\n"}
                    </span>
                  ))}
                </pre>
              ) : (
                <p class="muted" data-testid="script-diff">{t("scripts.noDifference")}</p>
              )
            ) : null}
          </Card>
        </div>
      ) : null}
      {script ? (
        <p class="muted small">
          {t("scripts.usedBy")}: {script.used_by.length ? <JobLinks ids={script.used_by} /> : "–"}
        </p>
      ) : null}
      {rollback ? (
        <Confirm
          title={t("scripts.rollback")}
          message={t("scripts.rollbackConfirm", { version: rollback.version })}
          confirmLabel={t("scripts.rollback")}
          busy={busy}
          error={dialogError}
          onConfirm={doRollback}
          onCancel={() => setRollback(null)}
        />
      ) : null}
      {removing && props.name ? (
        <Confirm
          title={t("scripts.delete")}
          message={<WithRaw text={t("scripts.deleteConfirm", { name: RAW })} value={props.name} />}
          confirmLabel={t("scripts.delete")}
          danger
          busy={busy}
          error={dialogError}
          onConfirm={remove}
          onCancel={() => setRemoving(false)}
        />
      ) : null}
    </div>
  );
}
