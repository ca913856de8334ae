// A heat map of fires per bucket on a canvas: one row per hour (per-minute buckets) or per
// day (per-hour buckets), darker where more jobs fire. Hovering a cell names its time and count.
import { useEffect, useRef, useState } from "preact/hooks";
import { formatTime } from "../format";
import { useI18n } from "../i18n";

const CELL = 10;
const GAP = 1;

export function rowLength(bucketS: number): number {
  if (bucketS >= 3600) return Math.max(1, Math.round(86400 / bucketS));
  return Math.max(1, Math.round(3600 / bucketS));
}

export function HeatMap(props: { buckets: number[]; firstBucket: string; bucketS: number; peak: number; threshold: number; testid?: string }) {
  const { t, lang, zone } = useI18n();
  const ref = useRef<HTMLCanvasElement>(null);
  const [hover, setHover] = useState<string | null>(null);
  const perRow = rowLength(props.bucketS);
  const rows = Math.ceil(props.buckets.length / perRow);
  const width = perRow * (CELL + GAP);
  const height = rows * (CELL + GAP);
  const first = Date.parse(props.firstBucket);

  useEffect(() => {
    const canvas = ref.current;
    const ctx = canvas?.getContext("2d");
    if (!canvas || !ctx) return;
    ctx.clearRect(0, 0, width, height);
    const top = Math.max(1, props.peak);
    props.buckets.forEach((n, i) => {
      const x = (i % perRow) * (CELL + GAP);
      const y = Math.floor(i / perRow) * (CELL + GAP);
      if (n === 0) ctx.fillStyle = "#eef0f4";
      else if (n > props.threshold) ctx.fillStyle = "#b42318";
      else {
        const level = 0.15 + 0.85 * Math.sqrt(n / top);
        ctx.fillStyle = `rgba(31, 95, 191, ${level.toFixed(3)})`;
      }
      ctx.fillRect(x, y, CELL, CELL);
    });
  }, [props.buckets, props.peak, props.threshold, perRow, width, height]);

  const onMove = (event: MouseEvent) => {
    const rect = (event.currentTarget as HTMLCanvasElement).getBoundingClientRect();
    const col = Math.floor((event.clientX - rect.left) / (CELL + GAP));
    const row = Math.floor((event.clientY - rect.top) / (CELL + GAP));
    const index = row * perRow + col;
    if (col < 0 || col >= perRow || index < 0 || index >= props.buckets.length) return setHover(null);
    const at = new Date(first + index * props.bucketS * 1000).toISOString();
    setHover(t("forecast.cell", { time: formatTime(at, lang, zone), n: props.buckets[index] ?? 0 }));
  };

  return (
    <div class="heatmap" data-testid={props.testid}>
      <canvas ref={ref} width={width} height={height} onMouseMove={onMove} onMouseLeave={() => setHover(null)} aria-label={t("forecast.heatmap")} role="img" />
      <div class="muted heat-hover">{hover ?? t("forecast.hover", { row: props.bucketS >= 3600 ? t("forecast.rowDay") : t("forecast.rowHour") })}</div>
    </div>
  );
}
