// Words for the values the API sends as codes: run reasons, executors, node roles, audit
// actions, job owners, the concurrency policy. A value the catalogue does not know is shown as
// the API sent it (it is an identifier, never prose).
import type { MessageKey, T } from "./i18n";
import type { Job, Policies } from "./types";

function known(t: T, key: string, fallback: string): string {
  const text = t(key as MessageKey);
  return text === undefined || text === key ? fallback : text;
}

export function reasonLabel(t: T, reason: string): string {
  return known(t, `reason.${reason === "catch-up" ? "catchup" : reason}`, reason);
}

export function executorLabel(t: T, executor: string): string {
  return known(t, `executor.${executor}`, executor);
}

export function nodeRoles(t: T, roles: string): string {
  return roles
    .split(/[,\s]+/)
    .filter(Boolean)
    .map((r) => known(t, `node.${r}`, r))
    .join(", ");
}

export function auditAction(t: T, action: string): string {
  return known(t, `audit.action.${action}`, action);
}

/** The audit actions the filter offers (the API matches "job." as a prefix). */
export const AUDIT_ACTIONS = [
  "job.create",
  "job.update",
  "job.reschedule",
  "job.remove",
  "job.pause",
  "job.resume",
  "job.run",
  "run.cancel",
  "scheduler.pause",
  "scheduler.resume",
  "user.create",
  "user.update",
  "user.delete",
  "user.password",
  "token.create",
  "token.revoke",
  "group.create",
  "group.update",
  "group.remove",
  "user.grant",
  "user.revoke",
] as const;

/** Jobs a job file or application code owns: they are changed there, not in the console. */
export function definedElsewhere(job: Pick<Job, "owner">): boolean {
  return job.owner === "config" || job.owner === "code" || job.owner === "builtin";
}

export function ownerText(t: T, job: Pick<Job, "owner" | "owner_ref">): string {
  const ref = job.owner_ref ?? "";
  switch (job.owner) {
    case "config":
      return t("owner.config", { ref });
    case "code":
      return t("owner.code", { ref });
    case "api":
      return t("owner.api");
    case "cli":
      return t("owner.cli");
    case "python":
      return t("owner.python");
    case "builtin":
      return t("owner.builtin");
    default:
      return job.owner;
  }
}

/** Where a file- or code-owned job is to be changed, for the read-only notice. */
export function ownerSource(t: T, job: Pick<Job, "owner" | "owner_ref">): string {
  if (job.owner === "builtin") return t("owner.builtinSource");
  return job.owner === "code" ? t("owner.codeSource", { ref: job.owner_ref ?? "" }) : (job.owner_ref ?? "");
}

/** What the concurrency policy does, in words (not its name). */
export function concurrencyText(t: T, p: Pick<Policies, "concurrency_policy" | "max_instances">): string {
  const n = p.max_instances;
  if (p.concurrency_policy === "forbid") return t("concurrency.describe.forbid");
  if (p.concurrency_policy === "replace") return n > 1 ? t("concurrency.describe.replace", { n }) : t("concurrency.describe.replace1");
  return n > 1 ? t("concurrency.describe.allow", { n }) : t("concurrency.describe.allow1");
}

/** A job kind in words (python, shell, http, sql, script; issue 17). */
export function kindLabel(t: T, kind: string): string {
  return known(t, `kinds.name.${kind}`, kind);
}
