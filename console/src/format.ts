// Instants with their zone, durations in the current language, numbers. Every instant the
// console shows names its zone: the viewer's display zone (a setting, the browser's by default)
// as a UTC offset, or, for a job's next run, the job's own zone by name.
import type { Lang } from "./i18n";

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(zone?: string): Intl.DateTimeFormat {
  const key = zone ?? "";
  let f = formatters.get(key);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat("en-US", {
        year: "numeric",
        month: "2-digit",
        day: "2-digit",
        hour: "2-digit",
        minute: "2-digit",
        second: "2-digit",
        hourCycle: "h23",
        timeZone: zone,
      });
    } catch {
      f = formatter();
    }
    formatters.set(key, f);
  }
  return f;
}

export const browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
const ZONE_KEY = "tickwork.zone";

function validZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** The zone instants are shown in: the viewer's choice (stored in the browser), else the browser's. */
export function initialZone(): string {
  try {
    const stored = localStorage.getItem(ZONE_KEY);
    if (stored && validZone(stored)) return stored;
  } catch {
    /* storage may be disabled */
  }
  return browserZone;
}

export function rememberZone(zone: string): void {
  try {
    if (zone === browserZone) localStorage.removeItem(ZONE_KEY);
    else localStorage.setItem(ZONE_KEY, zone);
  } catch {
    /* storage may be disabled */
  }
}

function parts(date: Date, zone?: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of formatter(zone).formatToParts(date)) out[p.type] = p.value;
  return out;
}

/** YYYY-MM-DD HH:MM:SS in ``zone`` (the same in both languages: unambiguous for operators). */
export function formatTime(iso: string | null | undefined, _lang: Lang, zone?: string): string {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const p = parts(date, zone);
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}`;
}

/** The fires a counted missed record stands for, from the first to the last, in ``zone``:
 * times of day when both fall on one day there ("10:00:05 – 10:12:55"), else whole instants. */
export function fireRange(first: string, last: string | null, zone?: string): string {
  const a = formatTime(first, "en", zone);
  const b = formatTime(last ?? first, "en", zone);
  return a.slice(0, 10) === b.slice(0, 10) ? `${a.slice(11)} – ${b.slice(11)}` : `${a} – ${b}`;
}

/** The UTC offset of ``zone`` at an instant, as a label: "UTC", "UTC+8", "UTC-3:30". */
export function offsetLabel(iso: string, zone: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  const p = parts(date, zone);
  const wall = Date.UTC(Number(p.year), Number(p.month) - 1, Number(p.day), Number(p.hour), Number(p.minute), Number(p.second));
  const minutes = Math.round((wall - Math.floor(date.getTime() / 1000) * 1000) / 60000);
  if (minutes === 0) return "UTC";
  const sign = minutes > 0 ? "+" : "-";
  const abs = Math.abs(minutes);
  const h = Math.floor(abs / 60);
  const m = abs % 60;
  return `UTC${sign}${h}${m ? `:${String(m).padStart(2, "0")}` : ""}`;
}

/** HH:MM in ``zone`` (chart axes), with seconds when the ticks are that close. */
export function formatClock(seconds: number, withSeconds = false, zone?: string): string {
  const p = parts(new Date(seconds * 1000), zone);
  return withSeconds ? `${p.hour}:${p.minute}:${p.second}` : `${p.hour}:${p.minute}`;
}

/** Labels of a time axis: seconds when ticks are under a minute apart. */
export function clockTicks(ticks: number[], zone?: string): string[] {
  const step = ticks.length > 1 ? (ticks[1] ?? 0) - (ticks[0] ?? 0) : 3600;
  return ticks.map((t) => formatClock(t, step < 60, zone));
}

// Tick spacings a time axis may use, in seconds: whole seconds and up (a label is HH:MM:SS at
// the finest, so sub-second ticks would repeat the same label).
export const TIME_INCRS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800];

const UNITS: Record<Lang, { ms: string; s: string; min: string; h: string }> = {
  en: { ms: "ms", s: "s", min: "min", h: "h" },
  "zh-CN": { ms: "毫秒", s: "秒", min: "分", h: "小时" },
};

/** A number with ``digits`` significant digits, without trailing zeros. */
function significant(value: number, digits: number): string {
  return String(Number(value.toPrecision(digits)));
}

/** Short axis labels for durations. */
export function shortDuration(seconds: number, lang: Lang = "en"): string {
  const u = UNITS[lang];
  if (seconds === 0) return "0";
  if (seconds < 1) return `${significant(seconds * 1000, 2)} ${u.ms}`;
  if (seconds < 120) return `${Math.round(seconds * 10) / 10} ${u.s}`;
  return `${Math.round(seconds / 60)} ${u.min}`;
}

/** The hover text of an instant: the viewer's zone and UTC (and the other zone, when shown in one). */
export function timeTitle(iso: string | null | undefined, lang: Lang, display: string, shownIn?: string): string {
  if (!iso) return "";
  const lines: string[] = [];
  if (shownIn && shownIn !== display) lines.push(`${shownIn}: ${formatTime(iso, lang, shownIn)}`);
  lines.push(`${display}: ${formatTime(iso, lang, display)} (${offsetLabel(iso, display)})`);
  if (display !== "UTC") lines.push(`UTC: ${formatTime(iso, lang, "UTC")}`);
  return lines.join("\n");
}

export function relative(iso: string | null | undefined, lang: Lang, now = Date.now()): string {
  if (!iso) return "";
  const seconds = (new Date(iso).getTime() - now) / 1000;
  const rtf = new Intl.RelativeTimeFormat(lang, { numeric: "auto" });
  const abs = Math.abs(seconds);
  if (abs < 60) return rtf.format(Math.round(seconds), "second");
  if (abs < 3600) return rtf.format(Math.round(seconds / 60), "minute");
  if (abs < 86400) return rtf.format(Math.round(seconds / 3600), "hour");
  return rtf.format(Math.round(seconds / 86400), "day");
}

/** A run's duration: sub-millisecond ones keep two significant digits (0.42 ms, not 0 ms). */
export function duration(seconds: number | null | undefined, lang: Lang = "en"): string {
  if (seconds === null || seconds === undefined) return "";
  const u = UNITS[lang];
  if (seconds === 0) return `0 ${u.ms}`;
  if (seconds < 0.001) return `${significant(seconds * 1000, 2)} ${u.ms}`;
  if (seconds < 1) return `${Math.round(seconds * 1000)} ${u.ms}`;
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 2 : 1)} ${u.s}`;
  const m = Math.floor(seconds / 60);
  const s = Math.round(seconds % 60);
  if (m < 60) return `${m} ${u.min} ${s} ${u.s}`;
  return `${Math.floor(m / 60)} ${u.h} ${m % 60} ${u.min}`;
}

export function percent(rate: number | null | undefined): string {
  if (rate === null || rate === undefined) return "–";
  return `${(rate * 100).toFixed(rate >= 0.999 || rate === 0 ? 0 : 1)}%`;
}

export function age(seconds: number, lang: Lang = "en"): string {
  if (seconds < 60) return `${seconds.toFixed(1)} ${UNITS[lang].s}`;
  return duration(seconds, lang);
}

export function timeZones(): string[] {
  const withSupported = Intl as unknown as { supportedValuesOf?: (key: string) => string[] };
  const zones = withSupported.supportedValuesOf?.("timeZone") ?? [];
  return zones.includes("UTC") ? zones : ["UTC", ...zones];
}

/** ``YYYY-MM-DD[ HH:MM[:SS]]`` (as the console shows times) in ``zone`` -> an ISO instant,
 * or null when the text is not such a time. */
export function localInputToIso(value: string, zone: string): string | null {
  const m = /^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$/.exec(value.trim());
  if (!m) return null;
  const [y, mo, d, h, mi, s] = [m[1], m[2], m[3], m[4] ?? 0, m[5] ?? 0, m[6] ?? 0].map(Number) as number[];
  if (mo! < 1 || mo! > 12 || d! < 1 || d! > 31 || h! > 23 || mi! > 59 || s! > 59) return null;
  const wall = Date.UTC(y!, mo! - 1, d!, h!, mi!, s!);
  // The zone's offset near that wall time, applied twice to settle across a DST change.
  let guess = wall;
  for (let i = 0; i < 2; i++) {
    const p = parts(new Date(guess), zone);
    const shown = Date.UTC(Number(p.year), Number(p.month) - 1, Number(p.day), Number(p.hour), Number(p.minute), Number(p.second));
    guess += wall - shown;
  }
  return new Date(guess).toISOString();
}
