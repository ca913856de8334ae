// Named connections (issue 17): database, Redis, HTTP, SMTP. The list shows the public fields
// and every secret masked (the API never returns one); admins create, change, test and remove
// them. A connection a job names cannot be removed: the API says which jobs, shown here.
import type { ComponentChildren } from "preact";
import { useEffect, useState } from "preact/hooks";
import { api, ApiError, enc } from "../api";
import { Confirm, Empty, RAW, WithRaw, ErrorBox, Field, Loading, Modal, PartsText, Raw, Time, value } from "../components/ui";
import { useI18n } from "../i18n";
import type { MessageKey } from "../i18n";
import { localProblemParts } from "../i18n/problems";
import { CONNECTION_FIELDS, CONNECTION_KINDS, MASK } from "../kinds";
import type { Connection, ConnectionKind, ConnectionTest } from "../kinds";
import { useCan } from "../session";
import type { Json } from "../types";
import { JobLinks } from "./Scripts";

function shown(v: Json): string {
  if (v === null || v === undefined) return "";
  if (typeof v === "object") return Object.entries(v).map(([k, x]) => `${k}: ${String(x)}`).join("; ");
  return String(v);
}

export function ConnectionsPage() {
  const { t } = useI18n();
  const can = useCan();
  const admin = can("admin");
  const [items, setItems] = useState<Connection[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [editing, setEditing] = useState<Connection | "new" | null>(null);
  const [removing, setRemoving] = useState<Connection | null>(null);
  const [removeError, setRemoveError] = useState<unknown>(null);
  const [tests, setTests] = useState<Record<string, ConnectionTest | "busy" | { failed: unknown }>>({});
  const [busy, setBusy] = useState(false);

  const load = async () => {
    try {
      setItems((await api.get<{ items: Connection[] }>("/api/connections")).items);
      setError(null);
    } catch (err) {
      setError(err);
    }
  };
  useEffect(() => void load(), []);

  const test = async (c: Connection) => {
    setTests((old) => ({ ...old, [c.name]: "busy" }));
    try {
      const result = await api.post<ConnectionTest>(`/api/connections/${enc(c.name)}/test`);
      setTests((old) => ({ ...old, [c.name]: result }));
    } catch (err) {
      setTests((old) => ({ ...old, [c.name]: { failed: err } }));
    }
  };

  const remove = async () => {
    if (!removing) return;
    setBusy(true);
    try {
      await api.del(`/api/connections/${enc(removing.name)}`);
      setRemoving(null);
      await load();
    } catch (err) {
      setRemoveError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="page">
      <div class="page-head">
        <h1>{t("nav.connections")}</h1>
        {admin ? (
          <button type="button" class="primary" onClick={() => setEditing("new")} data-action="new-connection">
            {t("connections.new")}
          </button>
        ) : null}
      </div>
      <p class="muted">{t("connections.intro")}</p>
      <ErrorBox error={error} />
      {items === null ? (
        error ? null : <Loading />
      ) : items.length === 0 ? (
        <Empty>{t("connections.none")}</Empty>
      ) : (
        <table class="table" data-testid="connections-table">
          <thead>
            <tr>
              <th>{t("connections.name")}</th>
              <th>{t("connections.kind")}</th>
              <th>{t("connections.fields")}</th>
              <th>{t("connections.usedBy")}</th>
              <th>{t("connections.updated")}</th>
              {admin ? <th /> : null}
            </tr>
          </thead>
          <tbody>
            {items.map((c) => {
              const result = tests[c.name];
              return (
                <tr key={c.name} data-connection={c.name}>
                  <td>
                    <Raw class="mono">{c.name}</Raw>
                    {c.description ? <div class="muted small"><Raw>{c.description}</Raw></div> : null}
                  </td>
                  <td>{t(`connections.kind.${c.kind}` as MessageKey)}</td>
                  <td>
                    <dl class="kv compact conn-fields">
                      {Object.entries(c.fields)
                        .filter(([, v]) => v !== null && v !== "")
                        .map(([k, v]) => (
                          <>
                            <dt>{t(`connections.field.${k}` as MessageKey)}</dt>
                            <dd class="mono" translate={false} data-conn-field={k}>{shown(v)}</dd>
                          </>
                        ))}
                    </dl>
                  </td>
                  <td>{c.used_by.length ? <JobLinks ids={c.used_by} /> : <span class="muted">–</span>}</td>
                  <td>
                    <Time iso={c.updated_at} /> {c.updated_by ? <Raw class="muted">· {c.updated_by}</Raw> : null}
                  </td>
                  {admin ? (
                    <td class="right actions-cell">
                      <button type="button" class="small" onClick={() => test(c)} disabled={result === "busy"} data-action="test">
                        {result === "busy" ? t("connections.testing") : t("connections.test")}
                      </button>{" "}
                      <button type="button" class="small" onClick={() => setEditing(c)} data-action="edit">
                        {t("connections.edit")}
                      </button>{" "}
                      <button type="button" class="small danger-outline" onClick={() => { setRemoveError(null); setRemoving(c); }} data-action="delete">
                        {t("connections.delete")}
                      </button>
                      {result && result !== "busy" ? <TestResult result={result} /> : null}
                    </td>
                  ) : null}
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {editing ? (
        <ConnectionDialog
          existing={editing === "new" ? null : editing}
          onClose={() => setEditing(null)}
          onSaved={() => {
            setEditing(null);
            void load();
          }}
        />
      ) : null}
      {removing ? (
        <Confirm
          title={t("connections.delete")}
          message={<WithRaw text={t("connections.deleteConfirm", { name: RAW })} value={removing.name} />}
          confirmLabel={t("connections.delete")}
          danger
          busy={busy}
          error={removeError}
          onConfirm={remove}
          onCancel={() => setRemoving(null)}
        />
      ) : null}
    </div>
  );
}

function TestResult(props: { result: ConnectionTest | { failed: unknown } }) {
  const { t } = useI18n();
  const r = props.result;
  if ("failed" in r) return <div class="test-result"><ErrorBox error={r.failed} /></div>;
  return (
    <div class={`test-result ${r.ok ? "ok" : "bad"}`} data-testid="test-result" data-ok={r.ok ? "yes" : "no"}>
      <strong class={r.ok ? "ok-text" : "error-text"}>{r.ok ? t("connections.testOk", { ms: Math.round(r.elapsed_ms) }) : t("connections.testFailed")}</strong>
      {r.message ? <code class="small">{r.message}</code> : null}
    </div>
  );
}

type Errors = Record<string, ComponentChildren>;

function ConnectionDialog(props: { existing: Connection | null; onClose: () => void; onSaved: () => void }) {
  const { t, lang } = useI18n();
  const old = props.existing;
  const [name, setName] = useState(old?.name ?? "");
  const [kind, setKind] = useState<ConnectionKind>(old?.kind ?? "database");
  const [description, setDescription] = useState(old?.description ?? "");
  const initial: Record<string, string> = {};
  if (old)
    for (const [k, secret] of CONNECTION_FIELDS[old.kind]) {
      const v = old.fields[k];
      initial[k] = secret || v === null || v === undefined ? "" : typeof v === "object" ? Object.entries(v).map(([a, b]) => `${a}: ${String(b)}`).join("\n") : String(v);
    }
  const [fields, setFields] = useState<Record<string, string>>(initial);
  const [errors, setErrors] = useState<Errors>({});
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const body = (): Record<string, Json> => {
    const out: Record<string, Json> = {};
    for (const [k, secret] of CONNECTION_FIELDS[kind]) {
      const v = (fields[k] ?? "").trim();
      if (secret) {
        if (v) out[k] = v; // left empty: the stored secret stays
      } else if (k === "headers") {
        const headers: Record<string, string> = {};
        for (const line of v.split("\n")) {
          const at = line.indexOf(":");
          if (at > 0) headers[line.slice(0, at).trim()] = line.slice(at + 1).trim();
        }
        if (Object.keys(headers).length || old) out[k] = headers;
      } else if (k === "port") {
        if (v) out[k] = Number(v);
      } else if (v || old) out[k] = v;
    }
    return out;
  };

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setErrors({});
    setError(null);
    try {
      if (old) await api.patch(`/api/connections/${enc(old.name)}`, { description, fields: body(), version: old.version });
      else await api.post("/api/connections", { name: name.trim(), kind, description, fields: body() });
      props.onSaved();
    } catch (err) {
      if (err instanceof ApiError && err.status === 422 && err.field) {
        const field = err.field.replace(/^body\./, "").replace(/^fields\./, "").split(".")[0] ?? "";
        const known = ["name", "kind", "description", ...CONNECTION_FIELDS[kind].map(([k]) => k)];
        if (known.includes(field)) {
          setErrors({ [field]: <PartsText parts={localProblemParts(lang, err, null)} /> });
          return;
        }
      }
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Modal title={old ? t("connections.editTitle") : t("connections.new")} onClose={props.onClose} wide>
      <form onSubmit={submit} novalidate data-testid="connection-form">
        <ErrorBox error={error} />
        <div class="fields">
          <Field label={t("connections.name")} error={errors.name} hint={old ? null : t("connections.nameHint")} name="name">
            <input name="name" class="mono" value={name} onInput={(e) => setName(value(e))} disabled={!!old} autoComplete="off" />
          </Field>
          <Field label={t("connections.kind")} error={errors.kind} name="kind">
            <select name="kind" value={kind} onChange={(e) => setKind(value(e) as ConnectionKind)} disabled={!!old}>
              {CONNECTION_KINDS.map((k) => (
                <option value={k} key={k}>
                  {t(`connections.kind.${k}` as MessageKey)}
                </option>
              ))}
            </select>
          </Field>
          <Field label={t("connections.description")} error={errors.description} wide name="description">
            <input name="description" value={description} onInput={(e) => setDescription(value(e))} />
          </Field>
          {CONNECTION_FIELDS[kind].map(([k, secret]) => (
            <Field
              key={`${kind}-${k}`}
              label={t(`connections.field.${k}` as MessageKey)}
              error={errors[k]}
              hint={secret ? (old?.fields[k] === MASK ? t("connections.secretKept") : t("connections.secretHint")) : t(`connections.hint.${kind}.${k}` as MessageKey)}
              wide={k === "url" || k === "base_url" || k === "headers"}
              name={k}
            >
              {k === "headers" ? (
                <textarea name={k} class="mono" rows={2} value={fields[k] ?? ""} onInput={(e) => setFields({ ...fields, [k]: value(e) })} spellcheck={false} />
              ) : k === "security" ? (
                <select name={k} value={fields[k] || "starttls"} onChange={(e) => setFields({ ...fields, [k]: value(e) })}>
                  {["starttls", "tls", "none"].map((s) => (
                    <option value={s} key={s}>{t(`connections.security.${s}` as MessageKey)}</option>
                  ))}
                </select>
              ) : (
                <input
                  name={k}
                  type={secret ? "password" : k === "port" ? "number" : "text"}
                  class="mono"
                  value={fields[k] ?? ""}
                  placeholder={secret && old?.fields[k] === MASK ? MASK : undefined}
                  onInput={(e) => setFields({ ...fields, [k]: value(e) })}
                  autoComplete={secret ? "new-password" : "off"}
                  spellcheck={false}
                />
              )}
            </Field>
          ))}
        </div>
        <div class="modal-actions">
          <button type="button" onClick={props.onClose}>
            {t("common.cancel")}
          </button>
          <button type="submit" class="primary" disabled={busy} data-action="save-connection">
            {busy ? t("common.saving") : old ? t("common.save") : t("editor.create")}
          </button>
        </div>
      </form>
    </Modal>
  );
}
