// The audit trail (admins): who changed what and when, filtered, paged, before/after on demand.
import { useRef, useState } from "preact/hooks";
import { api } from "../api";
import { AuditRow } from "../components/Audit";
import { Empty, ErrorBox, LoadMore, value } from "../components/ui";
import { AUDIT_ACTIONS, auditAction } from "../describe";
import { useDebounced, usePoll } from "../hooks";
import { useI18n } from "../i18n";
import type { AuditEvent, Page } from "../types";

export function AuditPage() {
  const { t } = useI18n();
  const [actor, setActor] = useState("");
  const [job, setJob] = useState("");
  const [action, setAction] = useState("");
  const [events, setEvents] = useState<AuditEvent[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const filters = { actor: useDebounced(actor.trim(), 300), job_id: useDebounced(job.trim(), 300), action: useDebounced(action.trim(), 300) };
  const key = JSON.stringify(filters);
  const loadedKey = useRef<string | null>(null);

  usePoll(
    async () => {
      const reset = loadedKey.current !== key;
      if (!reset && events !== null && events.length > 50) return;
      try {
        const page = await api.get<Page<AuditEvent>>("/api/audit", { ...filters, limit: 50 });
        loadedKey.current = key;
        setEvents(page.items);
        setCursor(page.next_cursor);
        setError(null);
      } catch (err) {
        setError(err);
      }
    },
    15000,
    [key],
  );

  const more = async () => {
    if (!cursor) return;
    setBusy(true);
    try {
      const page = await api.get<Page<AuditEvent>>("/api/audit", { ...filters, limit: 50, cursor });
      setEvents([...(events ?? []), ...page.items]);
      setCursor(page.next_cursor);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="page">
      <div class="page-head">
        <h1>{t("audit.title")}</h1>
      </div>
      <div class="filters">
        <input placeholder={t("audit.actor")} aria-label={t("audit.actor")} value={actor} onInput={(e) => setActor(value(e))} />
        <input placeholder={t("runs.jobId")} aria-label={t("runs.jobId")} value={job} onInput={(e) => setJob(value(e))} class="mono" />
        <select aria-label={t("audit.action")} value={action} onChange={(e) => setAction(value(e))} name="action">
          <option value="">{t("audit.anyAction")}</option>
          <option value="job.">{t("audit.jobActions")}</option>
          {AUDIT_ACTIONS.map((a) => (
            <option value={a} key={a}>
              {auditAction(t, a)}
            </option>
          ))}
        </select>
      </div>
      <ErrorBox error={error} />
      {events === null ? null : events.length === 0 ? (
        <Empty>{t("audit.none")}</Empty>
      ) : (
        <table class="table compact">
          <thead>
            <tr>
              <th>{t("audit.at")}</th>
              <th>{t("audit.actor")}</th>
              <th>{t("audit.action")}</th>
              <th>{t("audit.subject")}</th>
              <th />
              <th />
            </tr>
          </thead>
          <tbody>
            {events.map((e) => (
              <AuditRow event={e} key={e.id} showJob />
            ))}
          </tbody>
        </table>
      )}
      {events !== null ? <LoadMore cursor={cursor} busy={busy} onMore={more} shown={events.length} /> : null}
    </div>
  );
}
