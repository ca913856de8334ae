// The graph layout library (dagre) loads only on the workflow pages that draw a graph.
import { useEffect, useState } from "preact/hooks";
import type { DagProps } from "./DagView";

type DagModule = typeof import("./DagView");
let loading: Promise<DagModule> | null = null;

export function LazyDag(props: DagProps) {
  const [mod, setMod] = useState<DagModule | null>(null);
  useEffect(() => {
    loading ??= import("./DagView");
    void loading.then((m) => setMod(() => m));
  }, []);
  if (!mod) return <div class="dag-loading" />;
  return <mod.DagView {...props} />;
}
