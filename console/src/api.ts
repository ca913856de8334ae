// The API client: JSON over fetch with the session cookie; the CSRF token on every write;
// errors as ApiError from the API's application/problem+json.
import { withBase } from "./base";
import type { Json, Problem } from "./types";

export const CSRF_HEADER = "X-CSRF-Token";

export class ApiError extends Error {
  readonly status: number;
  readonly field: string | null;
  readonly retryAfter: number | null;
  /** The API's machine-readable reason (``out_of_range``...) and its values, for translation. */
  readonly code: string | null;
  readonly params: Record<string, Json>;

  constructor(
    status: number,
    detail: string,
    field: string | null = null,
    retryAfter: number | null = null,
    code: string | null = null,
    params: Record<string, Json> = {},
  ) {
    super(detail);
    this.status = status;
    this.field = field;
    this.retryAfter = retryAfter;
    this.code = code;
    this.params = params;
  }
}

let csrfToken: string | null = null;
let unauthorized: () => void = () => undefined;

export function setCsrf(token: string | null): void {
  csrfToken = token;
}

export function onUnauthorized(callback: () => void): void {
  unauthorized = callback;
}

type Query = Record<string, string | number | boolean | null | undefined | readonly string[]>;

export function withQuery(path: string, query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === null || value === undefined || value === "") continue;
    if (Array.isArray(value)) for (const v of value) params.append(key, String(v));
    else params.set(key, String(value));
  }
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

function isProblem(value: unknown): value is Problem {
  return typeof value === "object" && value !== null && "detail" in value && "status" in value;
}

async function request<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
  const sent: Record<string, string> = { Accept: "application/json", ...headers };
  if (body !== undefined) sent["Content-Type"] = "application/json";
  if (method !== "GET" && csrfToken) sent[CSRF_HEADER] = csrfToken;
  let response: Response;
  try {
    response = await fetch(withBase(path), {
      method,
      headers: sent,
      credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, "network");
  }
  if (response.status === 204) return undefined as T;
  const type = response.headers.get("content-type") ?? "";
  const data: unknown = type.includes("json") ? await response.json().catch(() => null) : await response.text();
  if (!response.ok) {
    if (response.status === 401 && path !== "/api/auth/login") unauthorized();
    if (isProblem(data))
      throw new ApiError(response.status, data.detail, data.field ?? null, data.retry_after_s ?? null, data.code ?? null, data.params ?? {});
    throw new ApiError(response.status, typeof data === "string" && data ? data : response.statusText);
  }
  return data as T;
}

const prefetched = new Map<string, Promise<unknown>>();

/** Start a GET now; the first api.get of the same URL takes its answer (or asks again if it failed). */
export function prefetch(url: string): void {
  const pending = request<unknown>("GET", url);
  pending.catch(() => undefined);
  prefetched.set(url, pending);
}

function get<T>(url: string): Promise<T> {
  const early = prefetched.get(url);
  if (early) {
    prefetched.delete(url);
    return (early as Promise<T>).catch(() => request<T>("GET", url));
  }
  return request<T>("GET", url);
}

export const api = {
  get: <T>(path: string, query?: Query) => get<T>(withQuery(path, query)),
  post: <T>(path: string, body?: unknown) => request<T>("POST", path, body),
  put: <T>(path: string, body: unknown, headers?: Record<string, string>) => request<T>("PUT", path, body, headers),
  patch: <T>(path: string, body: unknown) => request<T>("PATCH", path, body),
  del: (path: string) => request<undefined>("DELETE", path),
};

export const enc = encodeURIComponent;
