// One audit event: what changed (the fields whose values differ), the whole before/after on
// demand. Values are shown as JSON text, never as markup.
import { useState } from "preact/hooks";
import { auditAction } from "../describe";
import { useI18n } from "../i18n";
import { localField } from "../i18n/problems";
import type { AuditEvent, Json } from "../types";
import { Link, Raw, Time } from "./ui";

function changedKeys(before: Record<string, Json> | null, after: Record<string, Json> | null): string[] {
  if (!before || !after) return [];
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...keys].filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k])).filter((k) => k !== "version" && k !== "updated_at" && k !== "updated_by");
}

export function AuditRow(props: { event: AuditEvent; showJob?: boolean }) {
  const { t, lang } = useI18n();
  const [open, setOpen] = useState(false);
  const e = props.event;
  const changed = changedKeys(e.before, e.after);
  return (
    <>
      <tr>
        <td class="nowrap">
          <Time iso={e.at} />
        </td>
        <td>
          <Raw>{e.actor}</Raw>
        </td>
        <td title={e.action}>{auditAction(t, e.action)}</td>
        {props.showJob ? (
          <td>
            {e.job_id ? (
              <Link href={`/jobs/${encodeURIComponent(e.job_id)}`}>
                <Raw>{e.job_id}</Raw>
              </Link>
            ) : e.subject ? (
              <Raw>{e.subject}</Raw>
            ) : (
              <span class="muted">–</span>
            )}
          </td>
        ) : null}
        <td>
          {e.run_id ? (
            <Link href={`/runs/${e.run_id}`}>
              {t("runs.run")} #{e.run_id}
            </Link>
          ) : null}{" "}
          {changed.length ? (
            <span class="muted small">
              {t("audit.changed", { fields: changed.map((k) => localField(lang, k)).join(lang === "zh-CN" ? "、" : ", ") })}
            </span>
          ) : null}
        </td>
        <td class="right">
          {e.before || e.after || e.detail ? (
            <button type="button" class="link small" onClick={() => setOpen(!open)} aria-expanded={open}>
              {open ? t("audit.hide") : t("audit.show")}
            </button>
          ) : null}
        </td>
      </tr>
      {open ? (
        <tr class="detail-row">
          <td colSpan={props.showJob ? 6 : 5}>
            <div class="audit-json">
              {e.before ? (
                <div>
                  <h4>{t("audit.before")}</h4>
                  <pre>{JSON.stringify(e.before, null, 2)}</pre>
                </div>
              ) : null}
              {e.after ? (
                <div>
                  <h4>{t("audit.after")}</h4>
                  <pre>{JSON.stringify(e.after, null, 2)}</pre>
                </div>
              ) : null}
              {e.detail ? (
                <div>
                  <h4>{t("audit.detail")}</h4>
                  <pre>{JSON.stringify(e.detail, null, 2)}</pre>
                </div>
              ) : null}
            </div>
          </td>
        </tr>
      ) : null}
    </>
  );
}
