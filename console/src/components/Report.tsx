// A built-in maintenance job's report (its run's result): findings, metrics and detail tables
// rendered as tables, not a text blob. Any other result is left to the caller.
import { Raw } from "./ui";
import { useI18n } from "../i18n";
import type { MessageKey } from "../i18n";

type Cell = string | number | boolean | null;
interface Finding {
  severity: string;
  object: string;
  message: string;
  action: string;
}
interface Table {
  columns: string[];
  rows: Cell[][];
  total?: number;
}
export interface Report {
  metrics: Record<string, Cell>;
  findings: Finding[];
  tables?: Record<string, Table>;
}

/** The report in ``result`` (``{metrics, findings, tables?}``), or null. */
export function parseReport(result: string | null | undefined): Report | null {
  if (!result || !result.startsWith("{")) return null;
  try {
    const value = JSON.parse(result) as Partial<Report>;
    if (value && typeof value.metrics === "object" && value.metrics !== null && Array.isArray(value.findings)) {
      return value as Report;
    }
  } catch {
    return null;
  }
  return null;
}

const SEVERITY: Record<string, { key: MessageKey; css: string }> = {
  info: { key: "report.info", css: "st-cancelled" },
  warning: { key: "report.warning", css: "st-skipped" },
  critical: { key: "report.critical", css: "st-failed" },
};

function show(value: Cell): string {
  if (value === null) return "";
  if (typeof value === "number") return Number.isInteger(value) ? value.toLocaleString() : value.toLocaleString(undefined, { maximumFractionDigits: 3 });
  return String(value);
}

export function ReportView(props: { report: Report }) {
  const { t } = useI18n();
  const { metrics, findings, tables } = props.report;
  return (
    <div class="report">
      <h3 class="sub">{t("report.findings")}</h3>
      {findings.length === 0 ? (
        <p class="muted">{t("report.noFindings")}</p>
      ) : (
        <table class="table compact report-findings">
          <thead>
            <tr>
              <th>{t("report.severity")}</th>
              <th>{t("report.object")}</th>
              <th>{t("report.message")}</th>
              <th>{t("report.action")}</th>
            </tr>
          </thead>
          <tbody>
            {findings.map((f, i) => {
              const sev = SEVERITY[f.severity] ?? { key: "report.info" as MessageKey, css: "" };
              return (
                <tr key={i} data-severity={f.severity}>
                  <td>
                    <span class={`badge ${sev.css}`}>{t(sev.key)}</span>
                  </td>
                  <td>
                    <Raw>{f.object}</Raw>
                  </td>
                  <td>
                    <Raw>{f.message}</Raw>
                  </td>
                  <td>
                    <Raw>{f.action}</Raw>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      <h3 class="sub">{t("report.metrics")}</h3>
      <table class="table compact report-metrics">
        <tbody>
          {Object.entries(metrics).map(([name, value]) => (
            <tr key={name}>
              <th>
                <Raw>{name}</Raw>
              </th>
              <td>
                <Raw>{show(value)}</Raw>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {Object.entries(tables ?? {}).map(([name, table]) => (
        <div key={name} class="report-table">
          <h3 class="sub">
            <Raw>{name}</Raw>
          </h3>
          {table.rows.length === 0 ? (
            <p class="muted">{t("report.noRows")}</p>
          ) : (
            <table class="table compact">
              <thead>
                <tr>
                  {table.columns.map((c) => (
                    <th key={c}>
                      <Raw>{c}</Raw>
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {table.rows.map((row, i) => (
                  <tr key={i}>
                    {row.map((cell, j) => (
                      <td key={j}>
                        <Raw>{show(cell)}</Raw>
                      </td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          {table.total ? <p class="muted">{t("report.moreRows", { shown: table.rows.length, total: table.total })}</p> : null}
        </div>
      ))}
    </div>
  );
}
