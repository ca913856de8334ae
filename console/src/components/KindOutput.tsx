// A run's result as its kind left it (issue 17): a command's or a script's exit code and
// output tails, an HTTP response's status, headers and body, a SQL statement's row count and
// first rows. Recognised by the result's shape; anything else is shown as the text it is.
import { useI18n } from "../i18n";
import type { Json } from "../types";

type Obj = Record<string, Json>;

function isObj(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function parseResult(text: string | null): Obj | null {
  if (!text) return null;
  try {
    const v: unknown = JSON.parse(text);
    return isObj(v) ? v : null;
  } catch {
    return null;
  }
}

/** Which output a result is: "process" (shell, script), "http", "sql", or null. */
export function outputShape(result: Obj | null): "process" | "http" | "sql" | null {
  if (!result) return null;
  if ("exit_code" in result && ("stdout" in result || "stderr" in result)) return "process";
  if (typeof result.status === "number" && "body" in result) return "http";
  if ("row_count" in result) return "sql";
  return null;
}

function cell(v: Json): string {
  return v === null ? "NULL" : typeof v === "object" ? JSON.stringify(v) : String(v);
}

/** ``ok``: whether the run (or the test request) succeeded, which colours the exit code or
 * status; without it, exit code 0 and statuses below 400 read as success. */
export function KindOutput(props: { result: Obj; ok?: boolean }) {
  const { t } = useI18n();
  const r = props.result;
  const shape = outputShape(r);
  if (shape === "process") {
    const code = r.exit_code;
    return (
      <div class="kind-output" data-testid="output-process">
        <p>
          {t("output.exitCode")}:{" "}
          <strong class={(props.ok ?? code === 0) ? "ok-text" : "error-text"} data-testid="exit-code">
            {code === null ? "–" : String(code)}
          </strong>
        </p>
        <h3 class="sub">{t("output.stdout")}</h3>
        <pre class="box" data-testid="stdout">{String(r.stdout ?? "") || " "}</pre>
        {r.stderr ? (
          <>
            <h3 class="sub">{t("output.stderr")}</h3>
            <pre class="box error-text" data-testid="stderr">{String(r.stderr)}</pre>
          </>
        ) : null}
        <p class="muted small">{t("output.tails")}</p>
      </div>
    );
  }
  if (shape === "http") {
    const headers = isObj(r.headers) ? Object.entries(r.headers) : [];
    const redirects = Array.isArray(r.redirects) ? r.redirects.map(String) : [];
    return (
      <div class="kind-output" data-testid="output-http">
        <p>
          {t("output.status")}:{" "}
          <strong data-testid="http-status" class={(props.ok ?? Number(r.status) < 400) ? "ok-text" : "error-text"}>
            <span translate={false}>
              {String(r.status)} {String(r.reason ?? "")}
            </span>
          </strong>
          {typeof r.elapsed_ms === "number" ? <span class="muted"> · {r.elapsed_ms} ms</span> : null}
        </p>
        {r.url ? <p class="small"><code>{String(r.url)}</code></p> : null}
        {redirects.length ? (
          <p class="small">
            {t("output.redirects")}: <code>{redirects.join(" → ")}</code>
          </p>
        ) : null}
        <h3 class="sub">{t("output.headers")}</h3>
        <pre class="box small" data-testid="http-headers">{headers.map(([k, v]) => `${k}: ${String(v)}`).join("\n")}</pre>
        <h3 class="sub">{t("output.body")}</h3>
        <pre class="box" data-testid="http-body">{String(r.body ?? "")}</pre>
        {r.body_truncated ? <p class="muted small">{t("output.bodyTruncated")}</p> : null}
      </div>
    );
  }
  if (shape === "sql") {
    const columns = Array.isArray(r.columns) ? r.columns.map(String) : [];
    const rows = Array.isArray(r.rows) ? r.rows : [];
    return (
      <div class="kind-output" data-testid="output-sql">
        <p>
          {t("output.rowCount")}: <strong data-testid="row-count">{r.row_count_capped ? "≥ " : ""}{cell(r.row_count ?? null)}</strong>
        </p>
        {columns.length ? (
          <div class="table-wrap">
            <table class="table small" data-testid="sql-rows">
              <thead>
                <tr>
                  {columns.map((c) => (
                    <th key={c} translate={false}>{c}</th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {rows.map((row, i) => (
                  <tr key={i}>
                    {(Array.isArray(row) ? row : isObj(row) ? columns.map((c) => row[c] ?? null) : [row]).map((v, j) => (
                      <td key={j} class="mono" translate={false}>{cell(v)}</td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : null}
        {r.rows_truncated ? <p class="muted small">{t("output.rowsTruncated", { n: rows.length })}</p> : null}
      </div>
    );
  }
  return <pre class="box">{JSON.stringify(r, null, 2)}</pre>;
}
