// Database sizes recorded by a collect_database_sizes (or generate_performance_report) job:
// a chart over time and the growth per week (GET /api/maintenance/sizes).
import { useEffect, useMemo, useState } from "preact/hooks";
import type uPlot from "uplot";
import { api, enc } from "../api";
import { LazyChart as Chart } from "./LazyChart";
import { Card, Empty, ErrorBox, Loading } from "./ui";
import { useI18n } from "../i18n";

interface SizePoint {
  at_us: number;
  database_bytes: number;
  connection: string | null;
}
interface Sizes {
  points: SizePoint[];
  growth_per_week_bytes: Record<string, number>;
}

export const SIZE_JOBS = new Set(["collect_database_sizes", "generate_performance_report"]);

export function bytes(n: number): string {
  const units = ["B", "KB", "MB", "GB", "TB"];
  let value = Math.abs(n);
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${n < 0 ? "-" : ""}${value.toLocaleString(undefined, { maximumFractionDigits: 1 })} ${units[unit]}`;
}

export function SizesCard(props: { jobId: string }) {
  const { t } = useI18n();
  const [sizes, setSizes] = useState<Sizes | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    api.get<Sizes>(`/api/maintenance/sizes?job_id=${enc(props.jobId)}`).then(setSizes, setError);
  }, [props.jobId]);
  const options = useMemo<Omit<uPlot.Options, "width" | "height">>(
    () => ({
      legend: { show: false },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true }, y: { range: (_u: uPlot, _min: number, max: number): uPlot.Range.MinMax => [0, max > 0 ? max * 1.15 : 1] } },
      axes: [{ space: 90 }, { size: 80, values: (_u: uPlot, ticks: number[]) => ticks.map((v) => bytes(v)) }],
      series: [{}, { label: t("sizes.database"), stroke: "#2f6fd6", width: 2, points: { show: true } }],
    }),
    [t],
  );
  const data = useMemo<uPlot.AlignedData>(
    () => [(sizes?.points ?? []).map((p) => p.at_us / 1e6), (sizes?.points ?? []).map((p) => p.database_bytes)],
    [sizes],
  );
  if (error) return <ErrorBox error={error} />;
  const growth = Object.values(sizes?.growth_per_week_bytes ?? {})[0];
  const latest = sizes?.points[sizes.points.length - 1];
  return (
    <Card title={t("sizes.title")}>
      {sizes === null ? (
        <Loading />
      ) : latest === undefined ? (
        <Empty>{t("sizes.none")}</Empty>
      ) : (
        <>
          <p data-testid="size-growth">
            {t("sizes.latest", { size: bytes(latest.database_bytes) })}
            {growth !== undefined ? ` · ${t("sizes.growth", { size: bytes(growth) })}` : ""}
          </p>
          {data[0].length > 1 ? <Chart options={options} data={data} height={160} label={t("sizes.title")} /> : null}
        </>
      )}
    </Card>
  );
}
