// Dates in the browser's zone (the job's zone on hover), durations, numbers.
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

/** YYYY-MM-DD HH:MM:SS (the same in both languages: unambiguous for operators). */
export function formatTime(iso: string | null | undefined, _lang: Lang, zone?: string): string {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const parts: Record<string, string> = {};
  for (const p of formatter(zone).formatToParts(date)) parts[p.type] = p.value;
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}:${parts.second}`;
}

/** HH:MM in the browser's zone (chart axes), with seconds when the ticks are that close. */
export function formatClock(seconds: number, withSeconds = false): string {
  const parts: Record<string, string> = {};
  for (const p of formatter().formatToParts(new Date(seconds * 1000))) parts[p.type] = p.value;
  return withSeconds ? `${parts.hour}:${parts.minute}:${parts.second}` : `${parts.hour}:${parts.minute}`;
}

/** Labels of a time axis: MM-DD on day changes, seconds when ticks are under a minute apart. */
export function clockTicks(ticks: number[]): string[] {
  const step = ticks.length > 1 ? (ticks[1] ?? 0) - (ticks[0] ?? 0) : 3600;
  return ticks.map((t) => formatClock(t, step < 60));
}

/** Short axis labels for durations. */
export function shortDuration(seconds: number): string {
  if (seconds === 0) return "0";
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 120) return `${Math.round(seconds * 10) / 10} s`;
  return `${Math.round(seconds / 60)} min`;
}

/** The hover text: the instant in the job's zone (and, when it differs, the zone shown). */
export function timeTitle(iso: string | null | undefined, lang: Lang, zone?: string): string {
  if (!iso) return "";
  const lines: string[] = [];
  if (zone && zone !== browserZone) lines.push(`${zone}: ${formatTime(iso, lang, zone)}`);
  lines.push(`${browserZone}: ${formatTime(iso, lang)}`);
  lines.push(`UTC: ${formatTime(iso, lang, "UTC")}`);
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

export function duration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined) return "";
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 2 : 1)} s`;
  const m = Math.floor(seconds / 60);
  const s = Math.round(seconds % 60);
  if (m < 60) return `${m} min ${s} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

export function percent(rate: number | null | undefined): string {
  if (rate === null || rate === undefined) return "–";
  return `${(rate * 100).toFixed(rate >= 0.999 || rate === 0 ? 0 : 1)}%`;
}

export function age(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  return duration(seconds);
}

export function timeZones(): string[] {
  const withSupported = Intl as unknown as { supportedValuesOf?: (key: string) => string[] };
  const zones = withSupported.supportedValuesOf?.("timeZone") ?? [];
  return zones.includes("UTC") ? zones : ["UTC", ...zones];
}
