// A workflow's graph, laid out by dagre (top to bottom) and drawn as SVG: a box per step,
// coloured by its state in a workflow run; an arrow per edge, labelled when its condition is
// not "success". A step with a run links to it.
import { graphlib, layout as dagreLayout } from "@dagrejs/dagre";
import { useMemo } from "preact/hooks";
import { linkClick } from "../router";
import type { Step, StepRun } from "../workflowTypes";

const W = 150;
const H = 44;

interface Placed {
  id: string;
  job: string;
  x: number;
  y: number;
}

interface Line {
  from: string;
  to: string;
  on: string;
  points: { x: number; y: number }[];
}

function layout(steps: Step[]): { nodes: Placed[]; lines: Line[]; width: number; height: number } {
  const g = new graphlib.Graph();
  g.setGraph({ rankdir: "TB", nodesep: 24, ranksep: 48, marginx: 8, marginy: 8 });
  g.setDefaultEdgeLabel(() => ({}));
  const known = new Set(steps.map((s) => s.id));
  for (const s of steps) g.setNode(s.id, { width: W, height: H });
  for (const s of steps) for (const e of s.after) if (known.has(e.step)) g.setEdge(e.step, s.id, { on: e.on });
  dagreLayout(g);
  const nodes = steps.map((s) => {
    const n = g.node(s.id);
    return { id: s.id, job: s.job, x: n.x, y: n.y };
  });
  const lines = g.edges().map((e) => {
    const edge = g.edge(e) as { points: { x: number; y: number }[]; on: string };
    return { from: e.v, to: e.w, on: edge.on, points: edge.points };
  });
  const graph = g.graph();
  return { nodes, lines, width: graph.width ?? W, height: graph.height ?? H };
}

export interface DagProps {
  steps: Step[];
  runs?: StepRun[];
  label?: (state: string) => string;
  edgeLabel?: (on: string) => string;
}

export function DagView(props: DagProps) {
  const placed = useMemo(() => layout(props.steps), [props.steps]);
  const state = new Map((props.runs ?? []).map((r) => [r.step, r]));
  return (
    <svg
      class="dag"
      role="img"
      width={placed.width}
      height={placed.height}
      viewBox={`0 0 ${placed.width} ${placed.height}`}
    >
      <defs>
        <marker id="dag-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
          <path d="M 0 0 L 10 5 L 0 10 z" class="dag-arrowhead" />
        </marker>
      </defs>
      {placed.lines.map((l) => {
        const d = l.points.map((p, i) => `${i ? "L" : "M"} ${p.x.toFixed(1)} ${p.y.toFixed(1)}`).join(" ");
        const mid = l.points[Math.floor(l.points.length / 2)];
        return (
          <g key={`${l.from}->${l.to}`} class={`dag-edge on-${l.on}`} data-edge={`${l.from}->${l.to}`}>
            <path d={d} marker-end="url(#dag-arrow)" />
            {l.on !== "success" && mid && (
              <text x={mid.x + 4} y={mid.y} class="dag-edge-label">
                {props.edgeLabel ? props.edgeLabel(l.on) : l.on}
              </text>
            )}
          </g>
        );
      })}
      {placed.nodes.map((n) => {
        const run = state.get(n.id);
        const cls = run ? `dag-node st-${run.state === "waiting" ? "waiting" : run.state}` : "dag-node";
        const title = run ? `${n.id}: ${props.label ? props.label(run.state) : run.state}` : n.id;
        const box = (
          <g class={cls} data-step={n.id} data-state={run?.state ?? ""}>
            <title>{title}</title>
            <rect x={n.x - W / 2} y={n.y - H / 2} width={W} height={H} rx="6" />
            <text x={n.x} y={n.y - 3} text-anchor="middle" class="dag-step">
              {n.id.length > 20 ? `${n.id.slice(0, 19)}…` : n.id}
            </text>
            <text x={n.x} y={n.y + 13} text-anchor="middle" class="dag-job">
              {run ? (props.label ? props.label(run.state) : run.state) : n.job}
            </text>
          </g>
        );
        return run?.run_id != null ? (
          <a key={n.id} href={`/runs/${run.run_id}`} onClick={linkClick as never}>
            {box}
          </a>
        ) : (
          <g key={n.id}>{box}</g>
        );
      })}
    </svg>
  );
}
