// Job kinds (issue 17): the shapes of /api/kinds, /api/settings, /api/connections and
// /api/scripts, and the job editor's per-kind form <-> the target mapping the API takes.
import type { Description, Json } from "./types";

export const KINDS = ["python", "shell", "http", "sql", "script"] as const;
export type TargetKind = (typeof KINDS)[number];
export const HTTP_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] as const;
export const CONNECTION_KINDS = ["database", "redis", "http", "smtp"] as const;
export type ConnectionKind = (typeof CONNECTION_KINDS)[number];
/** Each connection kind's fields: [name, secret]. */
export const CONNECTION_FIELDS: Record<ConnectionKind, [string, boolean][]> = {
  database: [["url", false], ["password", true]],
  redis: [["url", false], ["password", true]],
  http: [["base_url", false], ["auth_header", false], ["auth_value", true], ["headers", false]],
  smtp: [["host", false], ["port", false], ["security", false], ["username", false], ["password", true], ["from_addr", false]],
};
export const MASK = "******";

export interface KindInfo {
  kind: string;
  label: Description;
  enabled: boolean;
  admin_only: boolean;
  switch: string | null;
  parameter_field: string | null;
}

export interface DeploymentSettings {
  ssrf_allow: string[];
  kinds_off: string[];
  scripts_sandbox: string;
  scripts_user: string;
  allowed_targets: string[] | null;
}

export interface Connection {
  name: string;
  kind: ConnectionKind;
  description: string;
  fields: Record<string, Json>;
  version: number;
  created_at: string;
  created_by: string | null;
  updated_at: string;
  updated_by: string | null;
  used_by: string[];
}

export interface ConnectionTest {
  ok: boolean;
  message: string;
  elapsed_ms: number;
}

export interface ScriptVersion {
  script: string;
  version: number;
  message: string;
  author: string | null;
  created_at: string;
  sha256: string;
  size: number;
  code: string | null;
}

export interface Script {
  name: string;
  language: "python" | "bash";
  description: string;
  latest_version: number;
  created_at: string;
  created_by: string | null;
  updated_at: string;
  updated_by: string | null;
  used_by: string[];
  latest: ScriptVersion | null;
}

export interface ScriptDiff {
  script: string;
  from_version: number;
  to_version: number;
  diff: string;
}

export interface HttpTestResult {
  ok: boolean;
  error: string | null;
  result: Record<string, Json> | null;
}

/** The editor's fields of every kind, as typed (text); a kind uses its own subset. */
export interface SpecForm {
  shellMode: "args" | "string";
  argv: string[];
  commandText: string;
  env: string;
  cwd: string;
  okExitCodes: string;
  connections: string;
  method: string;
  url: string;
  headers: string;
  httpParams: string;
  bodyMode: "none" | "json" | "text";
  body: string;
  expectStatus: string;
  timeout: string;
  followRedirects: boolean;
  connection: string;
  statement: string;
  sqlParams: string;
  readOnly: boolean;
  maxRows: string;
  language: "python" | "bash";
  script: string;
  version: string;
}

export const EMPTY_SPEC: SpecForm = {
  shellMode: "args",
  argv: [""],
  commandText: "",
  env: "",
  cwd: "",
  okExitCodes: "0",
  connections: "",
  method: "GET",
  url: "",
  headers: "",
  httpParams: "",
  bodyMode: "none",
  body: "",
  expectStatus: "200-299",
  timeout: "",
  followRedirects: true,
  connection: "",
  statement: "",
  sqlParams: "{}",
  readOnly: false,
  maxRows: "",
  language: "python",
  script: "",
  version: "",
};

type Spec = Record<string, Json>;

function lines(map: Json | undefined, sep: string): string {
  if (!map || typeof map !== "object" || Array.isArray(map)) return "";
  return Object.entries(map)
    .map(([k, v]) => `${k}${sep}${String(v)}`)
    .join("\n");
}

function str(v: Json | undefined): string {
  return v === null || v === undefined ? "" : String(v);
}

/** The form of a stored target (the job API's ``target``: kind and its fields). */
export function specFromTarget(target: Spec): SpecForm {
  const f: SpecForm = { ...EMPTY_SPEC, argv: [""] };
  const list = (v: Json | undefined) => (Array.isArray(v) ? v.map(String).join(", ") : "");
  switch (target.kind) {
    case "shell":
      if (typeof target.command === "string") {
        f.shellMode = "string";
        f.commandText = target.command;
      } else if (Array.isArray(target.command)) f.argv = target.command.map(String);
      f.env = lines(target.env, "=");
      f.cwd = str(target.cwd);
      f.okExitCodes = list(target.ok_exit_codes) || "0";
      f.connections = list(target.connections);
      break;
    case "http":
      f.method = str(target.method) || "GET";
      f.url = str(target.url);
      f.headers = lines(target.headers, ": ");
      f.httpParams = lines(target.params, "=");
      if (target.json !== undefined && target.json !== null) {
        f.bodyMode = "json";
        f.body = JSON.stringify(target.json, null, 2);
      } else if (typeof target.body === "string") {
        f.bodyMode = "text";
        f.body = target.body;
      }
      f.expectStatus = list(target.expect_status) || "200-299";
      f.timeout = str(target.timeout_s);
      f.followRedirects = target.follow_redirects !== false;
      f.connection = str(target.connection);
      break;
    case "sql":
      f.connection = str(target.connection);
      f.statement = str(target.statement);
      f.sqlParams = JSON.stringify(target.params ?? {}, null, 1);
      f.readOnly = target.read_only === true;
      f.timeout = str(target.timeout_s);
      f.maxRows = str(target.max_rows);
      break;
    case "script":
      f.language = target.language === "bash" ? "bash" : "python";
      f.script = str(target.script);
      f.version = str(target.version);
      f.env = lines(target.env, "=");
      f.connections = list(target.connections);
      break;
  }
  return f;
}

/** A refusal of the form itself: the field it belongs to and a message key. */
export class SpecError extends Error {
  constructor(
    readonly field: string,
    readonly key: "kinds.badLines" | "kinds.badJson" | "kinds.badNumbers" | "editor.required",
    readonly line: string = "",
  ) {
    super(key);
  }
}

function parseLines(text: string, sep: string, field: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!line) continue;
    const at = line.indexOf(sep);
    if (at <= 0) throw new SpecError(field, "kinds.badLines", line);
    out[line.slice(0, at).trim()] = line.slice(at + sep.length).trim();
  }
  return out;
}

function names(text: string): string[] {
  return text
    .split(/[,\s]+/)
    .map((x) => x.trim())
    .filter(Boolean);
}

function numberOr(text: string, field: string): number | undefined {
  if (!text.trim()) return undefined;
  const n = Number(text);
  if (!Number.isFinite(n)) throw new SpecError(field, "kinds.badNumbers", text);
  return n;
}

/** The target mapping the API takes for ``kind`` (not python); SpecError for what the form can tell. */
export function targetFromSpec(kind: Exclude<TargetKind, "python">, f: SpecForm): Spec {
  const out: Spec = { kind };
  if (kind === "shell") {
    if (f.shellMode === "string") {
      out.command = f.commandText;
      out.shell = true;
    } else {
      const argv = [...f.argv];
      while (argv.length > 1 && !argv[argv.length - 1]?.trim()) argv.pop();
      out.command = argv;
    }
    const env = parseLines(f.env, "=", "env");
    if (Object.keys(env).length) out.env = env;
    if (f.cwd.trim()) out.cwd = f.cwd.trim();
    const codes = names(f.okExitCodes).map((c) => {
      const n = Number(c);
      if (!Number.isInteger(n)) throw new SpecError("ok_exit_codes", "kinds.badNumbers", c);
      return n;
    });
    if (codes.length && !(codes.length === 1 && codes[0] === 0)) out.ok_exit_codes = codes;
    if (names(f.connections).length) out.connections = names(f.connections);
  } else if (kind === "http") {
    out.method = f.method;
    out.url = f.url.trim();
    const headers = parseLines(f.headers, ":", "headers");
    if (Object.keys(headers).length) out.headers = headers;
    const params = parseLines(f.httpParams, "=", "params");
    if (Object.keys(params).length) out.params = params;
    if (f.bodyMode === "json") {
      try {
        out.json = JSON.parse(f.body) as Json;
      } catch {
        throw new SpecError("body", "kinds.badJson");
      }
    } else if (f.bodyMode === "text") out.body = f.body;
    const expect = names(f.expectStatus);
    if (expect.length && !(expect.length === 1 && expect[0] === "200-299")) out.expect_status = expect;
    const timeout = numberOr(f.timeout, "timeout_s");
    if (timeout !== undefined) out.timeout_s = timeout;
    if (!f.followRedirects) out.follow_redirects = false;
    if (f.connection) out.connection = f.connection;
  } else if (kind === "sql") {
    out.connection = f.connection;
    out.statement = f.statement;
    try {
      const params = JSON.parse(f.sqlParams.trim() || "{}") as Json;
      if (typeof params !== "object" || params === null || Array.isArray(params)) throw new Error();
      if (Object.keys(params).length) out.params = params;
    } catch {
      throw new SpecError("params", "kinds.badJson");
    }
    if (f.readOnly) out.read_only = true;
    const timeout = numberOr(f.timeout, "timeout_s");
    if (timeout !== undefined) out.timeout_s = timeout;
    const rows = numberOr(f.maxRows, "max_rows");
    if (rows !== undefined) out.max_rows = rows;
  } else {
    out.language = f.language;
    out.script = f.script;
    if (f.version) out.version = Number(f.version);
    const env = parseLines(f.env, "=", "env");
    if (Object.keys(env).length) out.env = env;
    if (names(f.connections).length) out.connections = names(f.connections);
  }
  return out;
}

/** The editor field an API refusal of ``target.<field>`` belongs to (``target.command[2]`` ->
 * command, ``target.headers.X`` -> headers, ``target.json`` -> body). */
export function specFieldOf(apiField: string): string {
  const rest = apiField.replace(/^target\./, "");
  const head = rest.split(/[.[]/)[0] ?? "";
  if (head === "json") return "body";
  return head;
}
