import { useEffect, useRef, useState } from "preact/hooks";

/** Call `tick` now and every `ms` while the tab is visible; stops on unmount. */
export function usePoll(tick: () => void | Promise<void>, ms: number, deps: unknown[] = []): void {
  const saved = useRef(tick);
  saved.current = tick;
  useEffect(() => {
    let stopped = false;
    let timer: number | undefined;
    const loop = async () => {
      if (stopped) return;
      if (document.visibilityState === "visible") {
        try {
          await saved.current();
        } catch {
          /* a failed refresh shows its error in the view; keep polling */
        }
      }
      if (!stopped) timer = window.setTimeout(loop, ms);
    };
    void loop();
    return () => {
      stopped = true;
      window.clearTimeout(timer);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [ms, ...deps]);
}

export function useDebounced<V>(value: V, ms: number): V {
  const [current, setCurrent] = useState(value);
  useEffect(() => {
    const timer = window.setTimeout(() => setCurrent(value), ms);
    return () => window.clearTimeout(timer);
  }, [value, ms]);
  return current;
}

/** performance.mark once, after the first render that has data (the benchmark reads it). */
export function useMarkOnce(name: string, ready: boolean): void {
  const done = useRef(false);
  useEffect(() => {
    if (ready && !done.current) {
      done.current = true;
      requestAnimationFrame(() => performance.mark(name));
    }
  }, [ready, name]);
}
