// uPlot in a Preact component: created once per `key`, data swapped in place, resized with
// its container. uPlot styles through the CSSOM, which the CSP allows.
import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

export interface ChartProps {
  options: Omit<uPlot.Options, "width" | "height">;
  data: uPlot.AlignedData;
  height?: number;
  label: string;
  /** Draw every data series as bars. */
  bars?: boolean;
}

export function Chart(props: ChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const height = props.height ?? 200;

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const width = Math.max(200, el.clientWidth);
    const series = props.bars ? props.options.series.map((x, i) => (i === 0 ? x : { ...x, paths: bars })) : props.options.series;
    // The x axis' labels and their spacing in pixels are kept on the element (data-x-labels,
    // data-x-space): the canvas holds only pixels, and the browser tests check the labels.
    const axes = (props.options.axes ?? []).map((axis, i) => {
      const values = axis.values;
      if (i !== 0 || typeof values !== "function") return axis;
      return {
        ...axis,
        values: (u: uPlot, splits: number[], idx: number, space: number, incr: number) => {
          const labels = values(u, splits, idx, space, incr);
          el.dataset.xLabels = JSON.stringify(labels);
          el.dataset.xSpace = String(Math.round(space));
          return labels;
        },
      };
    });
    const u = new uPlot({ ...props.options, axes, series, width, height } as uPlot.Options, props.data, el);
    plot.current = u;
    const observer = new ResizeObserver(() => {
      const w = Math.max(200, el.clientWidth);
      if (w !== u.width) u.setSize({ width: w, height });
    });
    observer.observe(el);
    return () => {
      observer.disconnect();
      u.destroy();
      plot.current = null;
    };
  }, [props.options]);

  useEffect(() => {
    plot.current?.setData(props.data);
  }, [props.data]);

  return <div class="chart" ref={box} role="img" aria-label={props.label} />;
}

const bars = uPlot.paths.bars?.({ size: [0.7, 40], gap: 1 });
