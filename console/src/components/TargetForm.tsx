// The job editor's form for a non-Python kind (issue 17): a command builder (shell), an HTTP
// request editor with "send test request", a SQL editor with the connection chooser, and a
// script chooser. Each field shows the API's refusal of target.<field>.
import type { ComponentChildren } from "preact";
import { useEffect, useState } from "preact/hooks";
import { api, ApiError, enc } from "../api";
import { useI18n } from "../i18n";
import { HTTP_METHODS, SpecError, targetFromSpec } from "../kinds";
import type { Connection, HttpTestResult, Script, ScriptVersion, SpecForm, TargetKind } from "../kinds";
import { ErrorBox, Field, Link, value } from "./ui";
import { KindOutput } from "./KindOutput";

type Errors = Record<string, ComponentChildren>;

export function TargetForm(props: {
  kind: Exclude<TargetKind, "python">;
  spec: SpecForm;
  errors: Errors;
  onSpec: (spec: SpecForm, changed: string) => void;
}) {
  const { t } = useI18n();
  const { kind, spec, errors } = props;
  const [connections, setConnections] = useState<Connection[] | null>(null);
  const [scripts, setScripts] = useState<Script[] | null>(null);
  const [versions, setVersions] = useState<ScriptVersion[]>([]);

  useEffect(() => {
    if (kind === "sql" || kind === "http" || kind === "shell" || kind === "script")
      api.get<{ items: Connection[] }>("/api/connections").then((c) => setConnections(c.items)).catch(() => setConnections([]));
    if (kind === "script") api.get<{ items: Script[] }>("/api/scripts").then((s) => setScripts(s.items)).catch(() => setScripts([]));
  }, [kind]);
  useEffect(() => {
    if (kind !== "script" || !spec.script) return setVersions([]);
    api
      .get<{ items: ScriptVersion[] }>(`/api/scripts/${enc(spec.script)}/versions`)
      .then((h) => setVersions(h.items))
      .catch(() => setVersions([]));
  }, [kind, spec.script]);

  const set = <K extends keyof SpecForm>(key: K, v: SpecForm[K], field: string = key) => props.onSpec({ ...spec, [key]: v }, field);
  const text = (key: keyof SpecForm, field?: string) => ({
    value: String(spec[key]),
    onInput: (e: Event) => set(key, (e.currentTarget as HTMLInputElement).value as never, field),
  });
  const connectionChooser = (wanted: string, field: string, optional: boolean) => (
    <select
      name={`t.${field}`}
      value={spec.connection}
      onChange={(e) => set("connection", value(e), field)}
    >
      <option value="">{optional ? t("kinds.noConnection") : t("kinds.chooseConnection")}</option>
      {(connections ?? [])
        .filter((c) => c.kind === wanted)
        .map((c) => (
          <option value={c.name} key={c.name} translate={false}>
            {c.name}
          </option>
        ))}
      {spec.connection && connections && !connections.some((c) => c.name === spec.connection) ? (
        <option value={spec.connection} translate={false}>{spec.connection}</option>
      ) : null}
    </select>
  );

  if (kind === "shell")
    return (
      <div class="fields kind-fields" data-kind-form="shell">
        <div class="wide">
          <div class="seg" role="radiogroup" aria-label={t("kinds.commandForm")}>
            {(["args", "string"] as const).map((m) => (
              <button type="button" key={m} role="radio" aria-checked={spec.shellMode === m} class={spec.shellMode === m ? "on" : ""} onClick={() => set("shellMode", m, "command")} data-shell-mode={m}>
                {t(m === "args" ? "kinds.shellArgs" : "kinds.shellString")}
              </button>
            ))}
          </div>
        </div>
        {spec.shellMode === "args" ? (
          <Field label={t("kinds.command")} error={errors.command ?? errors.shell} hint={t("kinds.argsHint")} wide name="t.command">
            <div class="argv" data-testid="argv">
              {spec.argv.map((arg, i) => (
                <span class="arg" key={i}>
                  <input
                    class="mono"
                    value={arg}
                    name={`t.command.${i}`}
                    aria-label={t("kinds.argument", { n: i + 1 })}
                    placeholder={i === 0 ? t("kinds.program") : ""}
                    autoComplete="off"
                    spellcheck={false}
                    onInput={(e) => set("argv", spec.argv.map((a, j) => (j === i ? value(e) : a)), "command")}
                  />
                  {spec.argv.length > 1 ? (
                    <button type="button" class="small link" aria-label={t("kinds.removeArgument")} title={t("kinds.removeArgument")} onClick={() => set("argv", spec.argv.filter((_, j) => j !== i), "command")}>
                      ×
                    </button>
                  ) : null}
                </span>
              ))}
              <button type="button" class="small" onClick={() => set("argv", [...spec.argv, ""], "command")} data-action="add-arg">
                {t("kinds.addArgument")}
              </button>
            </div>
          </Field>
        ) : (
          <Field label={t("kinds.command")} error={errors.command ?? errors.shell} hint={t("kinds.stringHint")} wide name="t.command">
            <textarea {...text("commandText", "command")} name="t.commandText" class="mono" rows={3} spellcheck={false} />
          </Field>
        )}
        <Field label={t("kinds.env")} error={errors.env} hint={t("kinds.envHint")} name="t.env">
          <textarea {...text("env")} name="t.env" class="mono" rows={2} spellcheck={false} />
        </Field>
        <Field label={t("kinds.cwd")} error={errors.cwd} hint={t("kinds.cwdHint")} name="t.cwd">
          <input {...text("cwd")} name="t.cwd" class="mono" autoComplete="off" />
        </Field>
        <Field label={t("kinds.okExitCodes")} error={errors.ok_exit_codes} hint={t("kinds.okExitCodesHint")} name="t.ok_exit_codes">
          <input {...text("okExitCodes", "ok_exit_codes")} name="t.ok_exit_codes" class="mono" />
        </Field>
        <Field label={t("kinds.connections")} error={errors.connections} hint={t("kinds.connectionsHint")} name="t.connections">
          <input {...text("connections")} name="t.connections" class="mono" autoComplete="off" />
        </Field>
      </div>
    );

  if (kind === "http") return <HttpForm spec={spec} errors={errors} set={set} text={text} chooser={connectionChooser("http", "connection", true)} />;

  if (kind === "sql")
    return (
      <div class="fields kind-fields" data-kind-form="sql">
        <Field label={t("kinds.connection")} error={errors.connection} hint={connections && !connections.some((c) => c.kind === "database") ? <NoConnections /> : t("kinds.sqlConnectionHint")} name="t.connection">
          {connectionChooser("database", "connection", false)}
        </Field>
        <label class="check">
          <input type="checkbox" checked={spec.readOnly} onChange={(e) => set("readOnly", e.currentTarget.checked, "read_only")} name="t.read_only" />
          {t("kinds.readOnly")}
        </label>
        <Field label={t("kinds.statement")} error={errors.statement} hint={t("kinds.statementHint")} wide name="t.statement">
          <textarea {...text("statement")} name="t.statement" class="mono" rows={5} spellcheck={false} />
        </Field>
        <Field label={t("kinds.sqlParams")} error={errors.params} hint={t("kinds.sqlParamsHint")} name="t.params">
          <textarea {...text("sqlParams", "params")} name="t.params" class="mono" rows={2} spellcheck={false} />
        </Field>
        <Field label={t("kinds.timeout")} error={errors.timeout_s} hint={t("kinds.sqlTimeoutHint")} name="t.timeout_s">
          <input type="number" min="0" step="any" {...text("timeout", "timeout_s")} name="t.timeout_s" />
        </Field>
        <Field label={t("kinds.maxRows")} error={errors.max_rows} hint={t("kinds.maxRowsHint")} name="t.max_rows">
          <input type="number" min="1" max="200" {...text("maxRows", "max_rows")} name="t.max_rows" />
        </Field>
      </div>
    );

  const chosen = scripts?.find((s) => s.name === spec.script);
  return (
    <div class="fields kind-fields" data-kind-form="script">
      <Field label={t("kinds.script")} error={errors.script ?? errors.language} hint={scripts && !scripts.length ? <Link href="/scripts/new">{t("scripts.new")}</Link> : chosen ? t("kinds.scriptLanguage", { language: chosen.language }) : null} name="t.script">
        <select
          name="t.script"
          value={spec.script}
          onChange={(e) => {
            const name = value(e);
            const s = scripts?.find((x) => x.name === name);
            props.onSpec({ ...spec, script: name, version: "", language: s?.language ?? spec.language }, "script");
          }}
        >
          <option value="">{t("kinds.chooseScript")}</option>
          {(scripts ?? []).map((s) => (
            <option value={s.name} key={s.name} translate={false}>
              {s.name}
            </option>
          ))}
          {spec.script && scripts && !chosen ? <option value={spec.script} translate={false}>{spec.script}</option> : null}
        </select>
      </Field>
      <Field label={t("kinds.version")} error={errors.version} hint={t("kinds.versionHint")} name="t.version">
        <select name="t.version" value={spec.version} onChange={(e) => set("version", value(e))}>
          <option value="">{t("kinds.latest")}</option>
          {versions.map((v) => (
            <option value={String(v.version)} key={v.version}>
              v{v.version}
            </option>
          ))}
        </select>
      </Field>
      <Field label={t("kinds.env")} error={errors.env} hint={t("kinds.envHint")} name="t.env">
        <textarea {...text("env")} name="t.env" class="mono" rows={2} spellcheck={false} />
      </Field>
      <Field label={t("kinds.connections")} error={errors.connections} hint={t("kinds.connectionsHint")} name="t.connections">
        <input {...text("connections")} name="t.connections" class="mono" autoComplete="off" />
      </Field>
    </div>
  );
}

function NoConnections() {
  const { t } = useI18n();
  return <Link href="/connections">{t("kinds.noDatabaseConnection")}</Link>;
}

function HttpForm(props: {
  spec: SpecForm;
  errors: Errors;
  set: <K extends keyof SpecForm>(key: K, v: SpecForm[K], field?: string) => void;
  text: (key: keyof SpecForm, field?: string) => { value: string; onInput: (e: Event) => void };
  chooser: ComponentChildren;
}) {
  const { t } = useI18n();
  const { spec, errors, set, text } = props;
  const [testing, setTesting] = useState(false);
  const [tested, setTested] = useState<HttpTestResult | null>(null);
  const [testError, setTestError] = useState<unknown>(null);

  const sendTest = async () => {
    setTesting(true);
    setTested(null);
    setTestError(null);
    try {
      const target = targetFromSpec("http", spec);
      setTested(await api.post<HttpTestResult>("/api/targets/http/test", { target }));
    } catch (err) {
      if (err instanceof SpecError) setTestError(new Error(t(err.key, { line: err.line })));
      else setTestError(err);
    } finally {
      setTesting(false);
    }
  };

  return (
    <div class="fields kind-fields" data-kind-form="http">
      <Field label={t("kinds.method")} error={errors.method} name="t.method">
        <select name="t.method" value={spec.method} onChange={(e) => set("method", value(e))}>
          {HTTP_METHODS.map((m) => (
            <option value={m} key={m} translate={false}>
              {m}
            </option>
          ))}
        </select>
      </Field>
      <Field label={t("kinds.connection")} error={errors.connection} hint={t("kinds.httpConnectionHint")} name="t.connection">
        {props.chooser}
      </Field>
      <Field label={t("kinds.url")} error={errors.url} hint={t("kinds.urlHint")} wide name="t.url">
        <input {...text("url")} name="t.url" class="mono" placeholder="https://example.com/hook" autoComplete="off" spellcheck={false} />
      </Field>
      <Field label={t("kinds.headers")} error={errors.headers} hint={t("kinds.headersHint")} name="t.headers">
        <textarea {...text("headers")} name="t.headers" class="mono" rows={2} spellcheck={false} />
      </Field>
      <Field label={t("kinds.query")} error={errors.params} hint={t("kinds.queryHint")} name="t.params">
        <textarea {...text("httpParams", "params")} name="t.params" class="mono" rows={2} spellcheck={false} />
      </Field>
      <div class="wide">
        <div class="seg" role="radiogroup" aria-label={t("kinds.body")}>
          {(["none", "json", "text"] as const).map((m) => (
            <button type="button" key={m} role="radio" aria-checked={spec.bodyMode === m} class={spec.bodyMode === m ? "on" : ""} onClick={() => set("bodyMode", m, "body")} data-body-mode={m}>
              {t(`kinds.body.${m}`)}
            </button>
          ))}
        </div>
      </div>
      {spec.bodyMode !== "none" ? (
        <Field label={t("kinds.body")} error={errors.body} wide name="t.body">
          <textarea {...text("body")} name="t.body" class="mono" rows={4} spellcheck={false} />
        </Field>
      ) : errors.body ? (
        <div class="field-error wide">{errors.body}</div>
      ) : null}
      <Field label={t("kinds.expectStatus")} error={errors.expect_status} hint={t("kinds.expectStatusHint")} name="t.expect_status">
        <input {...text("expectStatus", "expect_status")} name="t.expect_status" class="mono" />
      </Field>
      <Field label={t("kinds.timeout")} error={errors.timeout_s} hint={t("kinds.httpTimeoutHint")} name="t.timeout_s">
        <input type="number" min="0.1" step="any" {...text("timeout", "timeout_s")} name="t.timeout_s" />
      </Field>
      <label class="check wide">
        <input type="checkbox" checked={spec.followRedirects} onChange={(e) => set("followRedirects", e.currentTarget.checked, "follow_redirects")} name="t.follow_redirects" />
        {t("kinds.followRedirects")}
      </label>
      <div class="wide http-test">
        <button type="button" onClick={sendTest} disabled={testing || !spec.url.trim()} data-action="send-test">
          {testing ? t("kinds.sending") : t("kinds.sendTest")}
        </button>
        <span class="muted small"> {t("kinds.sendTestHint")}</span>
        <ErrorBox error={testError} />
        {tested ? (
          <div class="http-test-result" data-testid="http-test-result">
            {tested.error ? <pre class="box error-text">{tested.error}</pre> : null}
            {tested.result ? <KindOutput result={tested.result} ok={tested.ok} /> : null}
          </div>
        ) : null}
      </div>
    </div>
  );
}

/** A test request's refusal by the API, by field, for the form. */
export function isFieldError(err: unknown): err is ApiError {
  return err instanceof ApiError && err.status === 422 && !!err.field;
}
