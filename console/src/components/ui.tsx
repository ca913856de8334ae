// Small shared pieces: time, badges, errors, dialogs, paging, form fields.
import type { ComponentChildren, JSX } from "preact";
import { useEffect, useRef } from "preact/hooks";
import { ApiError } from "../api";
import { fireRange, formatTime, offsetLabel, relative, timeTitle } from "../format";
import { useI18n } from "../i18n";
import type { Lang, MessageKey, T } from "../i18n";
import { localProblemParts, localReasonParts, partsText } from "../i18n/problems";
import type { Part } from "../i18n/problems";
import { linkClick } from "../router";
import type { JobState, Run, RunStatus } from "../types";

export function Link(props: { href: string; class?: string; title?: string; children: ComponentChildren }) {
  return (
    <a href={props.href} class={props.class} title={props.title} onClick={linkClick}>
      {props.children}
    </a>
  );
}

/** An instant with its zone: in ``zone`` (a job's own zone, named) when given, else in the
 * viewer's display zone (labelled by its UTC offset); the hover shows the viewer's zone and UTC. */
export function Time(props: { iso: string | null | undefined; zone?: string; rel?: boolean }) {
  const { lang, zone: display } = useI18n();
  if (!props.iso) return <span class="muted">–</span>;
  const label = props.zone ?? offsetLabel(props.iso, display);
  return (
    <time dateTime={props.iso} title={timeTitle(props.iso, lang, display, props.zone)}>
      {formatTime(props.iso, lang, props.zone ?? display)}{" "}
      <span class="tz" translate={false}>
        {label}
      </span>
      {props.rel ? <span class="muted rel"> ({relative(props.iso, lang)})</span> : null}
    </time>
  );
}

/** How many fires a counted missed record stands for, and their range in the viewer's zone:
 * "missed 155 fires, 10:00:05 – 10:12:55 UTC+8" (nothing for a record of one fire). */
export function MissedFires(props: { run: Pick<Run, "fires" | "scheduled_for" | "last_scheduled_for"> }) {
  const { t, zone } = useI18n();
  const run = props.run;
  if (!(run.fires > 1)) return null;
  const range = `${fireRange(run.scheduled_for, run.last_scheduled_for, zone)} ${offsetLabel(run.scheduled_for, zone)}`;
  const title = `${formatTime(run.scheduled_for, "en", "UTC")} – ${formatTime(run.last_scheduled_for ?? run.scheduled_for, "en", "UTC")} UTC`;
  return (
    <span class="missed-fires" data-testid="missed-fires" title={title}>
      {t("runs.missedFires", { n: run.fires, range })}
    </span>
  );
}

/** A translated sentence with a value in it (a name) kept as data: ``t(key, {name: RAW})``. */
export const RAW = "\u0000";
export function WithRaw(props: { text: string; value: string }) {
  const [before, after] = props.text.split(RAW);
  return (
    <span>
      {before}
      <Raw class="mono">{props.value}</Raw>
      {after ?? ""}
    </span>
  );
}

/** Text that is data or an identifier (job ids, user names, zones): never translated. */
export function Raw(props: { children: ComponentChildren; class?: string }) {
  return (
    <span class={props.class} translate={false}>
      {props.children}
    </span>
  );
}

const STATUS_KEY: Record<RunStatus, MessageKey> = {
  scheduled: "status.scheduled",
  running: "status.running",
  succeeded: "status.succeeded",
  failed: "status.failed",
  timed_out: "status.timed_out",
  cancelled: "status.cancelled",
  skipped: "status.skipped",
  missed: "status.missed",
  lost: "status.lost",
};

export function statusLabel(t: T, status: string): string {
  const key = STATUS_KEY[status as RunStatus];
  return key ? t(key) : status;
}

export function StatusBadge(props: { status: string }) {
  const { t } = useI18n();
  return <span class={`badge st-${props.status}`}>{statusLabel(t, props.status)}</span>;
}

const STATE_KEY: Record<JobState, MessageKey> = {
  scheduled: "state.scheduled",
  paused: "state.paused",
  completed: "state.completed",
};

export function StateBadge(props: { state: JobState }) {
  const { t } = useI18n();
  return <span class={`badge js-${props.state}`}>{t(STATE_KEY[props.state])}</span>;
}

export function stateLabel(t: T, state: JobState): string {
  return t(STATE_KEY[state]);
}

export function errorText(t: T, error: unknown, lang: Lang = "en"): string {
  return partsText(errorParts(t, error, lang));
}

/** A message in parts: the user's values (ids, names, cron text) are shown as they are. */
export function PartsText(props: { parts: Part[] }) {
  return (
    <>
      {props.parts.map((p, i) =>
        typeof p === "string" ? (
          p
        ) : (
          <Raw key={i} class="value">
            {p.raw}
          </Raw>
        ),
      )}
    </>
  );
}

/** An error as parts: the API's problems by their code, in the current language. */
export function errorParts(t: T, error: unknown, lang: Lang = "en"): Part[] {
  if (error instanceof ApiError) {
    if (error.status === 0) return [t("error.network")];
    if (error.status === 403) return [`${t("error.forbidden")}: `, ...localReasonParts(lang, error)];
    if (error.status === 404) return localReasonParts(lang, error);
    if (error.status === 429) return [t("error.rateLimited", { s: error.retryAfter ?? 60 })];
    return localProblemParts(lang, error);
  }
  return [error instanceof Error ? error.message : String(error)];
}

export function ErrorBox(props: { error: unknown }) {
  const { t, lang } = useI18n();
  if (!props.error) return null;
  return (
    <div class="alert error" role="alert">
      <PartsText parts={errorParts(t, props.error, lang)} />
    </div>
  );
}

export function Loading() {
  const { t } = useI18n();
  return <div class="loading muted">{t("common.loading")}</div>;
}

export function Empty(props: { children: ComponentChildren }) {
  return <div class="empty muted">{props.children}</div>;
}

/** A modal dialog in the page (never window.confirm); Escape or the backdrop closes it. */
export function Modal(props: { title: string; onClose: () => void; children: ComponentChildren; wide?: boolean }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => e.key === "Escape" && props.onClose();
    document.addEventListener("keydown", onKey);
    box.current?.querySelector<HTMLElement>("input, button.primary, button.danger")?.focus();
    return () => document.removeEventListener("keydown", onKey);
  }, []);
  return (
    <div class="backdrop" onClick={(e) => e.target === e.currentTarget && props.onClose()}>
      <div class={props.wide ? "modal wide" : "modal"} role="dialog" aria-modal="true" aria-label={props.title} ref={box}>
        <h2>{props.title}</h2>
        {props.children}
      </div>
    </div>
  );
}

export function Confirm(props: {
  title: string;
  message: ComponentChildren;
  confirmLabel: string;
  danger?: boolean;
  busy?: boolean;
  error?: unknown;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  const { t } = useI18n();
  return (
    <Modal title={props.title} onClose={props.onCancel}>
      <div class="modal-body">{props.message}</div>
      <ErrorBox error={props.error} />
      <div class="modal-actions">
        <button type="button" onClick={props.onCancel}>
          {t("common.cancel")}
        </button>
        <button type="button" class={props.danger ? "danger" : "primary"} disabled={props.busy} onClick={props.onConfirm}>
          {props.confirmLabel}
        </button>
      </div>
    </Modal>
  );
}

export function LoadMore(props: { cursor: string | null; busy: boolean; onMore: () => void; shown: number }) {
  const { t } = useI18n();
  return (
    <div class="pager">
      <span class="muted">{t("common.shown", { n: props.shown })}</span>
      {props.cursor ? (
        <button type="button" onClick={props.onMore} disabled={props.busy}>
          {props.busy ? t("common.loading") : t("common.loadMore")}
        </button>
      ) : null}
    </div>
  );
}

export function Field(props: {
  label: ComponentChildren;
  error?: ComponentChildren;
  hint?: ComponentChildren;
  children: ComponentChildren;
  wide?: boolean;
  name?: string;
}) {
  return (
    <label class={`field${props.wide ? " wide" : ""}${props.error ? " invalid" : ""}`} data-field={props.name}>
      <span class="label">{props.label}</span>
      {props.children}
      {props.error ? (
        <span class="field-error" role="alert">
          {props.error}
        </span>
      ) : props.hint ? (
        <span class="hint">{props.hint}</span>
      ) : null}
    </label>
  );
}

export function Dl(props: { items: [string, ComponentChildren][] }) {
  return (
    <dl class="kv">
      {props.items.map(([k, v]) => (
        <>
          <dt>{k}</dt>
          <dd>{v === "" || v === null || v === undefined ? <span class="muted">–</span> : v}</dd>
        </>
      ))}
    </dl>
  );
}

export function Card(props: { title?: ComponentChildren; actions?: ComponentChildren; children: ComponentChildren; class?: string }) {
  return (
    <section class={`card ${props.class ?? ""}`}>
      {props.title || props.actions ? (
        <header class="card-head">
          <h2>{props.title}</h2>
          <div class="card-actions">{props.actions}</div>
        </header>
      ) : null}
      {props.children}
    </section>
  );
}

export type InputEvent = JSX.TargetedEvent<HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement, Event>;

export function value(event: InputEvent): string {
  return event.currentTarget.value;
}
