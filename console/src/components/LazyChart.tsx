// The chart library loads only on pages that draw a chart, so the lists paint sooner.
import { useEffect, useState } from "preact/hooks";
import type { ChartProps } from "./Chart";

type ChartModule = typeof import("./Chart");
let loading: Promise<ChartModule> | null = null;

export function LazyChart(props: ChartProps) {
  const [mod, setMod] = useState<ChartModule | null>(null);
  useEffect(() => {
    loading ??= import("./Chart");
    void loading.then((m) => setMod(() => m));
  }, []);
  if (!mod) return <div class="chart" role="img" aria-label={props.label} />;
  return <mod.Chart {...props} />;
}
