// The path the console is served under: "" at the root (`tickwork serve`), or the prefix an
// application mounted Tickwork at (tickwork.integrations.fastapi.mount), which the server
// writes into index.html as <meta name="tickwork-base">. Routes and API paths inside the
// console are written from "/"; these helpers add and remove the prefix at the edges.
export const BASE: string = document.querySelector<HTMLMetaElement>('meta[name="tickwork-base"]')?.content ?? "";

/** "/api/jobs" -> "/tickwork/api/jobs" under a prefix (unchanged at the root). */
export function withBase(path: string): string {
  return BASE && path.startsWith("/") ? BASE + path : path;
}

/** "/tickwork/jobs" -> "/jobs" under a prefix (unchanged at the root). */
export function withoutBase(pathname: string): string {
  if (!BASE) return pathname;
  if (pathname === BASE) return "/";
  return pathname.startsWith(BASE + "/") ? pathname.slice(BASE.length) : pathname;
}
