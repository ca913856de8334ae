// Create or edit a job: target, trigger (cron with presets, a field builder and free text,
// described and previewed by the API as you type; interval; date), zone, policies, group,
// tags, args/kwargs as JSON. The API's field errors appear next to their fields.
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { api, ApiError, enc } from "../api";
import { Card, ErrorBox, Field, Link, Loading, PartsText, Raw, value } from "../components/ui";
import { definedElsewhere, executorLabel, ownerSource } from "../describe";
import { browserZone, formatTime, timeZones } from "../format";
import { useDebounced } from "../hooks";
import { useI18n } from "../i18n";
import { localProblemParts, localReasonParts } from "../i18n/problems";
import type { Part } from "../i18n/problems";
import type { ComponentChildren } from "preact";
import { OwnerBadge } from "./JobDetail";
import { TargetForm } from "../components/TargetForm";
import { EMPTY_SPEC, KINDS, SpecError, specFieldOf, specFromTarget, targetFromSpec } from "../kinds";
import type { KindInfo, SpecForm, TargetKind } from "../kinds";
import type { MessageKey } from "../i18n";
import { navigate } from "../router";
import { covers, highest, useSession } from "../session";
import type { CronPreview, Job, Json } from "../types";

type Kind = "cron" | "interval" | "date";
const UNITS = ["weeks", "days", "hours", "minutes", "seconds"] as const;
type Unit = (typeof UNITS)[number];
const CRON_FIELDS: MessageKey[] = ["cron.minute", "cron.hour", "cron.dom", "cron.month", "cron.dow"];
const PRESETS: [MessageKey, string][] = [
  ["cron.hourly", "0 * * * *"],
  ["cron.daily", "0 2 * * *"],
  ["cron.weekly", "0 2 * * 1"],
  ["cron.monthly", "0 2 1 * *"],
];

interface Form {
  id: string;
  name: string;
  description: string;
  target: string;
  kind: Kind;
  expr: string;
  every: Record<Unit, string>;
  runDate: string;
  timezone: string;
  executor: string;
  misfire_policy: string;
  misfire_grace_s: string;
  concurrency_policy: string;
  max_instances: string;
  timeout_s: string;
  retries: string;
  retry_backoff_s: string;
  group: string;
  tags: string;
  args: string;
  kwargs: string;
  paused: boolean;
  targetKind: TargetKind;
  spec: SpecForm;
}

const EMPTY: Form = {
  id: "",
  name: "",
  description: "",
  target: "",
  kind: "cron",
  expr: "0 2 * * *",
  every: { weeks: "", days: "", hours: "", minutes: "5", seconds: "" },
  runDate: "",
  timezone: browserZone,
  executor: "thread",
  misfire_policy: "run_once",
  misfire_grace_s: "",
  concurrency_policy: "forbid",
  max_instances: "1",
  timeout_s: "",
  retries: "0",
  retry_backoff_s: "",
  group: "default",
  tags: "",
  args: "[]",
  kwargs: "{}",
  paused: false,
  targetKind: "python",
  spec: EMPTY_SPEC,
};

function num(value: Json | undefined): string {
  return value === null || value === undefined ? "" : String(value);
}

function fromJob(job: Job): Form {
  const spec = job.trigger.spec;
  const every = { ...EMPTY.every, minutes: "" };
  for (const unit of UNITS) every[unit] = num(spec[unit]);
  const runDate = typeof spec.run_date === "string" ? spec.run_date.slice(0, 19) : "";
  const p = job.policies;
  return {
    id: job.id,
    name: job.name,
    description: job.description,
    target: job.target.ref ?? "",
    kind: (["cron", "interval", "date"].includes(job.trigger.kind) ? job.trigger.kind : "cron") as Kind,
    expr: job.trigger.expr ?? "",
    every,
    runDate,
    timezone: job.timezone,
    executor: job.executor,
    misfire_policy: p.misfire_policy,
    misfire_grace_s: num(p.misfire_grace_s),
    concurrency_policy: p.concurrency_policy,
    max_instances: String(p.max_instances),
    timeout_s: num(p.timeout_s),
    retries: String(p.retries),
    retry_backoff_s: num(p.retry_backoff_s),
    group: job.group,
    tags: job.tags.join(", "),
    args: JSON.stringify(job.target.args ?? []),
    kwargs: JSON.stringify(job.target.kwargs ?? {}, null, 1),
    paused: job.paused,
    targetKind: (KINDS as readonly string[]).includes(job.target.kind) ? (job.target.kind as TargetKind) : "python",
    spec: specFromTarget(job.target as Record<string, Json>),
  };
}

/** Which form field an API error names (``trigger.minute`` -> the trigger, ``policies.retries`` -> retries). */
function fieldOf(apiField: string | null, kind: TargetKind = "python"): string {
  if (!apiField) return "";
  const parts = apiField.split(".");
  const [head, second] = parts;
  if (head === "timezone" || (head === "trigger" && second === "timezone")) return "timezone";
  if (head === "trigger" || head === "expression" || head === "expr") return "trigger";
  if (head === "target" && kind !== "python" && apiField !== "target" && second !== "kind") return `t.${specFieldOf(apiField)}`;
  if (head === "target") return second === "args" || second === "kwargs" ? second : "target";
  if (head === "policies" && second) return second;
  return head ?? "";
}

type Errors = Record<string, ComponentChildren>;

export function JobEditorPage(props: { jobId: string | null }) {
  const { t, lang, zone: display } = useI18n();
  const session = useSession();
  const [form, setForm] = useState<Form | null>(props.jobId ? null : EMPTY);
  const [job, setJob] = useState<Job | null>(null);
  const [errors, setErrors] = useState<Errors>({});
  const [formError, setFormError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [preview, setPreview] = useState<CronPreview | null>(null);
  const [previewError, setPreviewError] = useState<Part[] | null>(null);
  const zones = useMemo(timeZones, []);
  const [kinds, setKinds] = useState<KindInfo[]>([]);
  useEffect(() => {
    api.get<KindInfo[]>("/api/kinds").then(setKinds).catch(() => setKinds([]));
  }, []);
  const seq = useRef(0);

  useEffect(() => {
    if (!props.jobId) return;
    api
      .get<Job>(`/api/jobs/${enc(props.jobId)}`)
      .then((j) => {
        setJob(j);
        setForm(fromJob(j));
      })
      .catch(setFormError);
  }, [props.jobId]);

  const expr = useDebounced(form?.kind === "cron" ? form.expr.trim() : "", 250);
  const zone = useDebounced(form?.timezone.trim() ?? "", 250);
  useEffect(() => {
    if (!expr) {
      setPreview(null);
      setPreviewError(null);
      return;
    }
    const mine = ++seq.current;
    api
      .post<CronPreview>("/api/cron/preview", { expr, timezone: zone || "UTC", count: 5, seed: props.jobId ?? (form?.id || undefined) })
      .then((p) => {
        if (mine !== seq.current) return;
        setPreview(p);
        setPreviewError(null);
      })
      .catch((err: unknown) => {
        if (mine !== seq.current) return;
        setPreview(null);
        setPreviewError(
          err instanceof ApiError
            ? err.field === "timezone"
              ? [`${t("editor.timezone")}: `, ...localReasonParts(lang, err)]
              : localProblemParts(lang, err, err.field === "expr" ? null : err.field)
            : [String(err)],
        );
      });
  }, [expr, zone]);

  if (!covers(highest(session), "admin")) return <div class="page"><div class="alert error">{t("error.adminOnly")}</div></div>;
  if (!form) return formError ? <div class="page"><ErrorBox error={formError} /></div> : <Loading />;

  const set = <K extends keyof Form>(key: K, v: Form[K]) => {
    setForm({ ...form, [key]: v });
    if (errors[key]) setErrors({ ...errors, [key]: null });
  };
  const bind = (key: keyof Form) => ({
    value: String(form[key]),
    onInput: (e: Event) => set(key, (e.currentTarget as HTMLInputElement).value as never),
    name: key,
  });

  const cronParts = form.expr.trim().split(/\s+/);
  const builder = cronParts.length === 5 && !form.expr.trim().startsWith("@");
  const setPart = (i: number, v: string) => {
    const parts = [...cronParts];
    parts[i] = v.replace(/\s+/g, "") || "*";
    set("expr", parts.join(" "));
  };

  const parseJson = (text: string, want: "array" | "object"): [Json | null, string | null] => {
    try {
      const v = JSON.parse(text.trim() || (want === "array" ? "[]" : "{}")) as Json;
      const ok = want === "array" ? Array.isArray(v) : typeof v === "object" && v !== null && !Array.isArray(v);
      return ok ? [v, null] : [null, t(want === "array" ? "editor.argsArray" : "editor.kwargsObject")];
    } catch (err) {
      // The browser's own parser message is English: shown in the English console only.
      const detail = lang === "en" && err instanceof Error ? `: ${err.message}` : "";
      return [null, `${t("editor.badJson")}${detail}`];
    }
  };
  const python = form.targetKind === "python";
  const [args, argsError] = python ? parseJson(form.args, "array") : [null, null];
  const [kwargs, kwargsError] = python ? parseJson(form.kwargs, "object") : [null, null];
  const setSpec = (spec: SpecForm, field: string) => {
    setForm({ ...form, spec });
    if (errors[`t.${field}`]) setErrors({ ...errors, [`t.${field}`]: null });
  };
  const specErrors: Errors = {};
  for (const [key, err] of Object.entries(errors)) if (key.startsWith("t.")) specErrors[key.slice(2)] = err;

  const numberOrNull = (text: string): number | null => (text.trim() === "" ? null : Number(text));

  const submit = async (e: Event) => {
    e.preventDefault();
    const local: Errors = {};
    if (argsError) local.args = argsError;
    if (kwargsError) local.kwargs = kwargsError;
    if (python && !form.target.trim()) local.target = t("editor.required");
    let target: Record<string, Json> = { ref: form.target.trim(), args, kwargs };
    if (form.targetKind !== "python") {
      try {
        target = targetFromSpec(form.targetKind, form.spec);
      } catch (err) {
        if (!(err instanceof SpecError)) throw err;
        local[`t.${err.field}`] = t(err.key, { line: err.line });
      }
    }
    if (!props.jobId && !form.id.trim()) local.id = t("editor.required");
    if (Object.keys(local).length) {
      setErrors(local);
      return;
    }
    let trigger: Record<string, Json>;
    if (form.kind === "cron") trigger = { kind: "cron", expr: form.expr.trim() };
    else if (form.kind === "interval") {
      const a: Record<string, Json> = {};
      for (const unit of UNITS) if (form.every[unit].trim()) a[unit] = Number(form.every[unit]);
      trigger = { kind: "interval", args: a };
    } else trigger = { kind: "date", args: form.runDate ? { run_date: form.runDate.length === 16 ? `${form.runDate}:00` : form.runDate } : {} };
    const body = {
      id: props.jobId ?? form.id.trim(),
      name: form.name.trim() || null,
      description: form.description,
      group: form.group.trim() || "default",
      tags: form.tags
        .split(",")
        .map((x) => x.trim())
        .filter(Boolean),
      target,
      trigger,
      timezone: form.timezone.trim() || null,
      executor: form.executor,
      policies: {
        misfire_policy: form.misfire_policy,
        misfire_grace_s: numberOrNull(form.misfire_grace_s),
        concurrency_policy: form.concurrency_policy,
        max_instances: numberOrNull(form.max_instances),
        timeout_s: numberOrNull(form.timeout_s),
        retries: numberOrNull(form.retries),
        retry_backoff_s: numberOrNull(form.retry_backoff_s),
      },
      secret_keys: job?.secret_keys ?? [],
      parameters: job?.parameters ?? [],
      paused: form.paused,
      version: job?.version ?? null,
    };
    setBusy(true);
    setFormError(null);
    try {
      const saved = props.jobId
        ? await api.put<Job>(`/api/jobs/${enc(props.jobId)}`, body, { "If-Match": `"${job?.version ?? ""}"` })
        : await api.post<Job>("/api/jobs", body);
      navigate(`/jobs/${enc(saved.id)}`);
    } catch (err) {
      if (err instanceof ApiError && err.status === 422 && err.field) {
        const name = fieldOf(err.field, form.targetKind);
        const exact = err.field === name || (name.startsWith("t.") && err.field === `target.${name.slice(2)}`);
        setErrors({ [name]: <PartsText parts={localProblemParts(lang, err, exact ? null : err.field)} /> });
        const known = ["id", "name", "description", "target", "trigger", "timezone", "args", "kwargs", "group", "tags", ...Object.keys(EMPTY)];
        if (!known.includes(name) && !name.startsWith("t.")) setFormError(err);
      } else if (err instanceof ApiError && err.status === 409) {
        setFormError(new Error(t("editor.conflict")));
      } else setFormError(err);
    } finally {
      setBusy(false);
    }
  };

  const description = preview ? (lang === "zh-CN" ? preview.description.zh : preview.description.en) : "";
  const zoneForPreview = preview?.timezone || form.timezone;
  // A job a file or application code defines is changed there: shown here read-only.
  const readOnly = job !== null && definedElsewhere(job);

  return (
    <div class="page editor">
      <div class="page-head">
        <h1 class="job-title">
          {props.jobId ? t("editor.editTitle") : t("editor.newTitle")}
          {props.jobId ? <Raw class="mono job-title-name">{props.jobId}</Raw> : null}
          {job ? <OwnerBadge job={job} /> : null}
        </h1>
        <Link href={props.jobId ? `/jobs/${enc(props.jobId)}` : "/jobs"} class="button">
          {t("common.cancel")}
        </Link>
      </div>
      {readOnly && job ? (
        <div class="alert info" role="status" data-testid="read-only">
          {t("owner.readOnly", { source: ownerSource(t, job) })}
        </div>
      ) : null}
      <form onSubmit={submit} novalidate>
        <ErrorBox error={formError} />
        <fieldset class="plain" disabled={readOnly}>
        <div class="editor-grid">
          <Card title={t("editor.what")}>
            <div class="fields">
              {props.jobId ? null : (
                <Field label={t("editor.id")} error={errors.id} hint={t("editor.idHint")} name="id">
                  <input {...bind("id")} required class="mono" autoComplete="off" />
                </Field>
              )}
              <Field label={t("editor.name")} error={errors.name} hint={t("editor.nameHint")} name="name">
                <input {...bind("name")} />
              </Field>
              <div class="wide">
                <span class="label kind-label">{t("kinds.kind")}</span>
                <div class="seg kind-picker" role="radiogroup" aria-label={t("kinds.kind")}>
                  {KINDS.map((k) => {
                    const info = kinds.find((x) => x.kind === k);
                    const off = info !== undefined && !info.enabled && form.targetKind !== k;
                    return (
                      <button
                        type="button"
                        key={k}
                        role="radio"
                        aria-checked={form.targetKind === k}
                        class={form.targetKind === k ? "on" : ""}
                        disabled={off}
                        title={off && info?.switch ? t("kinds.switchedOff", { setting: info.switch }) : undefined}
                        onClick={() => {
                          setForm({ ...form, targetKind: k });
                          setErrors({});
                        }}
                        data-target-kind={k}
                      >
                        {info ? (lang === "zh-CN" ? info.label.zh : info.label.en) : k}
                      </button>
                    );
                  })}
                </div>
                {errors.target && !python ? <div class="field-error">{errors.target}</div> : null}
              </div>
              {python ? (
                <>
                  <Field label={t("editor.target")} error={errors.target} hint={t("editor.targetHint")} wide name="target">
                    <input {...bind("target")} class="mono" placeholder="package.module:function" required autoComplete="off" />
                  </Field>
                  <Field label={t("editor.args")} error={errors.args ?? argsError} hint={t("editor.argsHint")} name="args">
                    <textarea {...bind("args")} class="mono" rows={2} spellcheck={false} />
                  </Field>
                  <Field label={t("editor.kwargs")} error={errors.kwargs ?? kwargsError} hint={t("editor.kwargsHint")} name="kwargs">
                    <textarea {...bind("kwargs")} class="mono" rows={2} spellcheck={false} />
                  </Field>
                </>
              ) : (
                <div class="wide">
                  <TargetForm kind={form.targetKind as Exclude<TargetKind, "python">} spec={form.spec} errors={specErrors} onSpec={setSpec} />
                </div>
              )}
              <Field label={t("editor.group")} error={errors.group} name="group">
                <input {...bind("group")} />
              </Field>
              <Field label={t("editor.tags")} error={errors.tags} hint={t("editor.tagsHint")} name="tags">
                <input {...bind("tags")} />
              </Field>
              <Field label={t("editor.description")} error={errors.description} wide name="description">
                <textarea {...bind("description")} rows={2} />
              </Field>
            </div>
          </Card>

          <Card title={t("editor.when")}>
            <div class="seg" role="radiogroup" aria-label={t("editor.triggerType")}>
              {(["cron", "interval", "date"] as Kind[]).map((k) => (
                <button
                  type="button"
                  key={k}
                  role="radio"
                  aria-checked={form.kind === k}
                  class={form.kind === k ? "on" : ""}
                  onClick={() => set("kind", k)}
                  data-kind={k}
                >
                  {t(`editor.kind.${k}`)}
                </button>
              ))}
            </div>
            {form.kind === "cron" ? (
              <div class="cron">
                <div class="presets">
                  <span class="muted small">{t("cron.presets")}</span>
                  {PRESETS.map(([label, e]) => (
                    <button type="button" class="small" key={e} onClick={() => set("expr", e)} data-preset={e}>
                      {t(label)}
                    </button>
                  ))}
                </div>
                <Field label={t("cron.expression")} error={errors.trigger ?? (previewError ? <PartsText parts={previewError} /> : null)} hint={t("cron.expressionHint")} wide name="expr">
                  <input {...bind("expr")} class="mono cron-input" spellcheck={false} autoComplete="off" />
                </Field>
                {builder ? (
                  <div class="cron-parts">
                    {CRON_FIELDS.map((label, i) => (
                      <label key={label}>
                        <span class="label">{t(label)}</span>
                        <input class="mono" value={cronParts[i] ?? "*"} onInput={(e) => setPart(i, value(e))} aria-label={t(label)} />
                      </label>
                    ))}
                  </div>
                ) : (
                  <p class="muted small">{t("cron.freeText")}</p>
                )}
                <div class="preview" aria-live="polite" data-testid="cron-preview">
                  <div class="cron-description" data-testid="cron-description">
                    {description || <span class="muted">{previewError ? "" : t("common.loading")}</span>}
                  </div>
                  {preview && preview.next.length ? (
                    <ol class="next-fires" data-testid="next-fires">
                      {preview.next.map((iso) => (
                        <li key={iso}>
                          <span class="mono">{formatTime(iso, lang, zoneForPreview)}</span>{" "}
                          <Raw class="muted small">{zoneForPreview}</Raw>
                          {zoneForPreview !== display ? (
                            <span class="muted small">
                              {" "}
                              · {formatTime(iso, lang, display)} <Raw>{display}</Raw>
                            </span>
                          ) : null}
                        </li>
                      ))}
                    </ol>
                  ) : null}
                </div>
              </div>
            ) : form.kind === "interval" ? (
              <div class="fields">
                {UNITS.map((unit) => (
                  <Field label={t(`editor.unit.${unit}`)} key={unit} name={unit}>
                    <input
                      type="number"
                      min="0"
                      value={form.every[unit]}
                      onInput={(e) => set("every", { ...form.every, [unit]: value(e) })}
                    />
                  </Field>
                ))}
                {errors.trigger ? <div class="field-error wide">{errors.trigger}</div> : null}
              </div>
            ) : (
              <div class="fields">
                <Field label={t("editor.runDate")} error={errors.trigger} hint={t("editor.runDateHint")} name="runDate">
                  <input type="datetime-local" step="1" {...bind("runDate")} />
                </Field>
              </div>
            )}
            <div class="fields">
              <Field label={t("editor.timezone")} error={errors.timezone} hint={t("editor.timezoneHint", { zone: browserZone })} name="timezone">
                <input {...bind("timezone")} list="tw-zones" autoComplete="off" />
              </Field>
              <datalist id="tw-zones">
                {zones.map((z) => (
                  <option value={z} key={z} />
                ))}
              </datalist>
            </div>
          </Card>

          <Card title={t("editor.how")}>
            <div class="fields">
              <Field label={t("editor.misfire")} error={errors.misfire_policy} hint={t("editor.misfireHint")} name="misfire_policy">
                <select {...bind("misfire_policy")} onChange={(e) => set("misfire_policy", value(e))}>
                  <option value="run_once">{t("misfire.run_once")}</option>
                  <option value="run_all">{t("misfire.run_all")}</option>
                  <option value="skip">{t("misfire.skip")}</option>
                </select>
              </Field>
              <Field label={t("editor.grace")} error={errors.misfire_grace_s} hint={t("editor.graceHint")} name="misfire_grace_s">
                <input type="number" min="0" step="any" {...bind("misfire_grace_s")} />
              </Field>
              <Field label={t("editor.concurrency")} error={errors.concurrency_policy} name="concurrency_policy">
                <select {...bind("concurrency_policy")} onChange={(e) => set("concurrency_policy", value(e))}>
                  <option value="forbid">{t("concurrency.forbid")}</option>
                  <option value="allow">{t("concurrency.allow")}</option>
                  <option value="replace">{t("concurrency.replace")}</option>
                </select>
              </Field>
              <Field label={t("editor.maxInstances")} error={errors.max_instances} hint={t("editor.maxInstancesHint")} name="max_instances">
                <input type="number" min="1" {...bind("max_instances")} />
              </Field>
              <Field label={t("editor.timeout")} error={errors.timeout_s} hint={t("editor.timeoutHint")} name="timeout_s">
                <input type="number" min="0" step="any" {...bind("timeout_s")} />
              </Field>
              <Field label={t("editor.retries")} error={errors.retries} name="retries">
                <input type="number" min="0" {...bind("retries")} />
              </Field>
              <Field label={t("editor.backoff")} error={errors.retry_backoff_s} name="retry_backoff_s">
                <input type="number" min="0" step="any" {...bind("retry_backoff_s")} />
              </Field>
              <Field label={t("editor.executor")} error={errors.executor} name="executor">
                <select {...bind("executor")} onChange={(e) => set("executor", value(e))}>
                  <option value="thread">{executorLabel(t, "thread")}</option>
                  <option value="process">{executorLabel(t, "process")}</option>
                  <option value="asyncio">{executorLabel(t, "asyncio")}</option>
                </select>
              </Field>
              <label class="check wide">
                <input type="checkbox" checked={form.paused} onChange={(e) => set("paused", e.currentTarget.checked)} name="paused" />
                {t("editor.startPaused")}
              </label>
            </div>
          </Card>
        </div>
        </fieldset>
        {readOnly ? null : (
          <div class="form-actions">
            <button type="submit" class="primary" disabled={busy} data-action="save">
              {busy ? t("common.saving") : props.jobId ? t("editor.save") : t("editor.create")}
            </button>
          </div>
        )}
      </form>
    </div>
  );
}
