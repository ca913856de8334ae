// Client-side routing on the History API: links push a path, views re-render; no reloads.
import { useEffect, useState } from "preact/hooks";
import { withBase, withoutBase } from "./base";

type Listener = () => void;
const listeners = new Set<Listener>();

function notify(): void {
  for (const listener of listeners) listener();
}

window.addEventListener("popstate", notify);

export function navigate(to: string, options: { replace?: boolean } = {}): void {
  const current = withoutBase(location.pathname) + location.search;
  if (to === current) return notify();
  if (options.replace) history.replaceState(null, "", withBase(to));
  else history.pushState(null, "", withBase(to));
  notify();
  if (!options.replace) window.scrollTo(0, 0);
}

/** Change the query string of the current entry without a new view (filters). */
export function setQuery(params: Record<string, string | null | undefined>): void {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value) search.set(key, value);
  const qs = search.toString();
  history.replaceState(null, "", location.pathname + (qs ? `?${qs}` : ""));
}

export interface Location {
  path: string;
  query: URLSearchParams;
}

export function useLocation(): Location {
  const [, bump] = useState(0);
  useEffect(() => {
    const listener = () => bump((n) => n + 1);
    listeners.add(listener);
    return () => void listeners.delete(listener);
  }, []);
  return { path: withoutBase(location.pathname), query: new URLSearchParams(location.search) };
}

/** A navigation handler for <a href> so plain clicks stay in the page (new-tab clicks do not). */
export function linkClick(event: MouseEvent): void {
  if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  const anchor = (event.currentTarget as HTMLAnchorElement | null) ?? null;
  if (!anchor || anchor.target || anchor.origin !== location.origin) return;
  event.preventDefault();
  navigate(withoutBase(anchor.pathname) + anchor.search);
}
