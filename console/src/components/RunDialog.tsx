// "Run with parameters": a form for the parameters a job declares (its ``parameters`` in the
// job API), sent as ``POST /api/jobs/{id}/run`` with ``{"params": {"kwargs": {...}}}`` (only
// declared names; a field left empty is not sent, so the job's own default applies).
import { useState } from "preact/hooks";
import { api, ApiError, enc } from "../api";
import { useI18n } from "../i18n";
import type { T } from "../i18n";
import { localReason } from "../i18n/problems";
import type { Job, JobParameter, Json } from "../types";
import { ErrorBox, Field, Modal, Raw } from "./ui";

type Values = Record<string, string>;
const FIELD = "params.kwargs.";

function initial(p: JobParameter): string {
  if (p.default === undefined || p.default === null) return "";
  return typeof p.default === "string" ? p.default : JSON.stringify(p.default);
}

function hint(t: T, p: JobParameter): string {
  const parts: string[] = [];
  if (p.minimum != null && p.maximum != null) parts.push(t("jobs.paramRange", { min: p.minimum, max: p.maximum }));
  else if (p.minimum != null) parts.push(t("jobs.paramMin", { min: p.minimum }));
  else if (p.maximum != null) parts.push(t("jobs.paramMax", { max: p.maximum }));
  if (p.max_length != null) parts.push(t("jobs.paramMaxLength", { n: p.max_length }));
  return parts.join(" · ");
}

/** The value to send, an error to show, or undefined for "not set". */
function parse(t: T, p: JobParameter, text: string): { value?: Json; error?: string } {
  if (text === "") return p.required ? { error: t("editor.required") } : {};
  if (p.choices && p.choices.length) {
    const chosen = p.choices.find((c) => (typeof c === "string" ? c : JSON.stringify(c)) === text);
    return chosen === undefined ? { error: t("editor.required") } : { value: chosen };
  }
  switch (p.type) {
    case "boolean":
      return { value: text === "true" };
    case "integer": {
      const n = Number(text);
      return Number.isInteger(n) ? { value: n } : { error: t("jobs.paramInteger") };
    }
    case "number": {
      const n = Number(text);
      return Number.isFinite(n) ? { value: n } : { error: t("jobs.paramNumber") };
    }
    default:
      return { value: text };
  }
}

export function RunDialog(props: { job: Job; onClose: () => void; onQueued: (runId: number) => void }) {
  const { t, lang } = useI18n();
  const params = props.job.parameters;
  const [values, setValues] = useState<Values>(() => Object.fromEntries(params.map((p) => [p.name, initial(p)])));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    const kwargs: Record<string, Json> = {};
    const found: Record<string, string> = {};
    for (const p of params) {
      const out = parse(t, p, values[p.name] ?? "");
      if (out.error) found[p.name] = out.error;
      else if (out.value !== undefined) kwargs[p.name] = out.value;
    }
    setErrors(found);
    if (Object.keys(found).length) return;
    setBusy(true);
    setError(null);
    try {
      const queued = await api.post<{ run_id: number }>(`/api/jobs/${enc(props.job.id)}/run`, { params: { kwargs } });
      props.onQueued(queued.run_id);
    } catch (err) {
      // The API's refusal of one parameter (a bound, a choice) is shown at its field.
      const name = err instanceof ApiError && err.field?.startsWith(FIELD) ? err.field.slice(FIELD.length) : null;
      if (err instanceof ApiError && name !== null && params.some((p) => p.name === name)) setErrors({ [name]: localReason(lang, err) });
      else setError(err);
      setBusy(false);
    }
  };

  const set = (name: string, v: string) => setValues({ ...values, [name]: v });

  return (
    <Modal title={t("jobs.runTitle", { name: props.job.name })} onClose={props.onClose} wide>
      <form onSubmit={submit} class="stack" data-testid="run-dialog" novalidate>
        <p class="muted">{t("jobs.runIntro")}</p>
        <div class="fields">
          {params.map((p) => {
            const v = values[p.name] ?? "";
            const notSet = p.required ? null : <option value="">{t("jobs.paramNotSet")}</option>;
            let input;
            if (p.choices && p.choices.length) {
              input = (
                <select value={v} onChange={(e) => set(p.name, e.currentTarget.value)} name={p.name}>
                  {notSet}
                  {p.choices.map((c) => {
                    const text = typeof c === "string" ? c : JSON.stringify(c);
                    return (
                      <option value={text} key={text} translate={false}>
                        {text}
                      </option>
                    );
                  })}
                </select>
              );
            } else if (p.type === "boolean") {
              input = (
                <select value={v} onChange={(e) => set(p.name, e.currentTarget.value)} name={p.name}>
                  {notSet}
                  <option value="true">{t("common.yes")}</option>
                  <option value="false">{t("common.no")}</option>
                </select>
              );
            } else {
              const numeric = p.type === "integer" || p.type === "number";
              input = (
                <input
                  type={numeric ? "number" : "text"}
                  step={p.type === "integer" ? "1" : "any"}
                  min={p.minimum ?? undefined}
                  max={p.maximum ?? undefined}
                  maxLength={p.max_length ?? undefined}
                  value={v}
                  onInput={(e) => set(p.name, e.currentTarget.value)}
                  name={p.name}
                  class={numeric ? "mono" : undefined}
                  autoComplete="off"
                />
              );
            }
            const limits = hint(t, p);
            return (
              <Field
                key={p.name}
                label={<Raw class="mono">{p.name}</Raw>}
                name={p.name}
                error={errors[p.name]}
                hint={
                  p.help || limits ? (
                    <>
                      {p.help ? <Raw>{p.help}</Raw> : null}
                      {p.help && limits ? " · " : null}
                      {limits}
                    </>
                  ) : null
                }
              >
                {input}
              </Field>
            );
          })}
        </div>
        <ErrorBox error={error} />
        <div class="modal-actions">
          <button type="button" onClick={props.onClose}>
            {t("common.cancel")}
          </button>
          <button type="submit" class="primary" disabled={busy} data-action="run-submit">
            {t("jobs.runSubmit")}
          </button>
        </div>
      </form>
    </Modal>
  );
}
