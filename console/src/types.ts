// Shapes of the REST API (src/tickwork/api/schemas.py and routers/overview.py).

export type JobState = "scheduled" | "paused" | "completed";
export const RUN_STATUSES = [
  "scheduled",
  "running",
  "succeeded",
  "failed",
  "timed_out",
  "cancelled",
  "skipped",
  "missed",
  "lost",
] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
export const ROLES = ["viewer", "operator", "admin"] as const;
export type Role = (typeof ROLES)[number];
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code?: string;
  params?: Record<string, Json>;
  field?: string | null;
  retry_after_s?: number | null;
}

export interface Description {
  en: string;
  zh: string;
}

export interface Policies {
  misfire_policy: string;
  misfire_grace_s: number | null;
  max_catchup: number;
  concurrency_policy: string;
  max_instances: number;
  timeout_s: number | null;
  retries: number;
  retry_backoff_s: number;
  retry_backoff_max_s: number;
}

export interface LastRun {
  id: number;
  status: RunStatus;
  scheduled_for: string;
  finished_at: string | null;
  duration_s: number | null;
}

/** A parameter a job declares for "run with parameters" (the job API's ``parameters``). */
export interface JobParameter {
  name: string;
  type: "string" | "integer" | "number" | "boolean";
  default?: Json;
  required?: boolean;
  minimum?: number | null;
  maximum?: number | null;
  max_length?: number | null;
  choices?: Json[] | null;
  help?: string | null;
}

export interface Job {
  id: string;
  name: string;
  description: string;
  group: string;
  tags: string[];
  /** python: ref, args, kwargs; the other kinds: their spec's fields (issue 17, kinds.ts). */
  target: { kind: string; description?: Description; ref?: string; args?: Json[]; kwargs?: Record<string, Json>; [field: string]: Json | Description | undefined };
  trigger: {
    kind: string;
    expr: string | null;
    spec: Record<string, Json>;
    description: Description;
  };
  timezone: string;
  executor: string;
  policies: Policies;
  secret_keys: string[];
  state: JobState;
  paused: boolean;
  next_fire_at: string | null;
  last_run: LastRun | null;
  version: number;
  owner: string;
  owner_ref: string | null;
  parameters: JobParameter[];
  created_at: string;
  created_by: string | null;
  updated_at: string;
  updated_by: string | null;
}

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export interface Run {
  id: number;
  job_id: string;
  scheduled_for: string;
  due_at: string;
  attempt: number;
  retry_of: number | null;
  reason: string;
  status: RunStatus;
  node_id: string | null;
  cancel_requested: boolean;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  duration_s: number | null;
  result: string | null;
  error: string | null;
  params: Record<string, Json> | null;
  triggered_by: string | null;
  /** Due fires this record accounts for: 1, or more for a counted missed record. */
  fires: number;
  /** The last of those fires (the first is ``scheduled_for``) when more than one. */
  last_scheduled_for: string | null;
}

export interface RunDetail extends Run {
  traceback: string | null;
  log_size: number;
}

export interface RunStats {
  job_id: string | null;
  runs: number;
  by_status: Record<string, number>;
  success_rate: number | null;
  duration_min_s: number | null;
  duration_avg_s: number | null;
  duration_max_s: number | null;
  duration_p95_s: number | null;
  last_status: string | null;
  last_run_id: number | null;
  slow_threshold_s: number;
  slow_runs: number;
  slowest: Run[];
}

export interface Stats {
  since: string | null;
  until: string | null;
  total: RunStats;
  jobs: RunStats[];
}

export interface NodeInfo {
  id: string;
  host: string;
  pid: number;
  roles: string;
  version: string;
  started_at: string;
  heartbeat_at: string;
  heartbeat_age_s: number;
  alive: boolean;
}

export interface SchedulerStatus {
  paused: boolean;
  this_node: { scheduler: boolean; node_id: string | null; loop_alive: boolean | null };
  nodes: NodeInfo[];
  jobs: { total: number; scheduled: number; paused: number; completed: number };
}

export interface CronPreview {
  expr: string;
  timezone: string;
  description: Description;
  next: string[];
}

export interface Bucket {
  start: string;
  runs: number;
  succeeded: number;
  failed: number;
  other: number;
}

export interface Timeline {
  start: string; // exactly `hours` before now
  end: string;
  bucket_s: number;
  partial_first_bucket: boolean; // buckets[0] began before `start` and counts from there
  buckets: Bucket[];
}

export interface User {
  id: number;
  username: string;
  role: Role;
  disabled: boolean;
  created_at: string;
  created_by: string | null;
  updated_at: string;
}

export interface Me {
  user: User;
  via: "session" | "token";
  role: Role;
  csrf_token: string | null;
  groups: Record<string, GrantRole>;
}

export interface LoginOut {
  user: User;
  csrf_token: string;
  expires_at: string;
}

export interface Token {
  id: string;
  name: string;
  user_id: number;
  username: string;
  role: Role;
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
  revoked_at: string | null;
  active: boolean;
}

export interface TokenCreated {
  token: string;
  info: Token;
}

export interface AuditEvent {
  id: number;
  at: string;
  actor: string;
  action: string;
  job_id: string | null;
  run_id: number | null;
  subject: string | null;
  before: Record<string, Json> | null;
  after: Record<string, Json> | null;
  detail: Record<string, Json> | null;
}

// -- groups (issue 11) ---------------------------------------------------------------------
export type GrantRole = Role | "none";

export interface Group {
  name: string;
  description: string;
  owner: string | null;
  timezone: string | null;
  defaults: Record<string, unknown>;
  declared: boolean;
  version: number;
  jobs: number;
  paused: number;
  your_role: GrantRole;
  updated_at: string | null;
  updated_by: string | null;
}

export interface GroupActionOut {
  group: string;
  action: "pause" | "resume" | "run";
  dry_run: boolean;
  jobs: number;
  changes: number;
  run_ids: number[];
}

export interface Grants {
  user_id: number;
  username: string;
  role: Role;
  grants: Record<string, GrantRole>;
}

export interface GroupMember {
  user_id: number;
  username: string;
  role: GrantRole;
}

// -- alerts (issue 12) -------------------------------------------------------------------------
export interface AlertChannel {
  name: string;
  kind: string;
  language: string;
  description: string;
  enabled: boolean;
  fields: Record<string, Json>;
  version: number;
  used_by: string[];
}

export interface AlertRule {
  id: string;
  kind: string;
  scope: string;
  scope_value: string | null;
  params: Record<string, Json>;
  severity: string;
  dedupe_s: number;
  quiet: { start: string; end: string; timezone: string } | null;
  channels: string[];
  enabled: boolean;
  description: string;
  version: number;
}

export interface AlertDelivery {
  id: number;
  channel: string;
  status: string;
  attempts: number;
  next_attempt_at: string;
  delivered_at: string | null;
  last_error: string | null;
}

export interface AlertAttempt {
  channel: string;
  node_id: string | null;
  started_at: string;
  finished_at: string | null;
  ok: boolean | null;
  status_code: number | null;
  response: string | null;
  error: string | null;
}

export interface AlertItem {
  id: number;
  rule_id: string | null;
  kind: string;
  job_id: string | null;
  run_id: number | null;
  severity: string;
  status: string;
  facts: Record<string, Json>;
  created_at: string;
  deliveries: AlertDelivery[];
  attempts: AlertAttempt[] | null;
}

export interface AlertList {
  items: AlertItem[];
  next_before: number | null;
}

export interface ChannelTest {
  ok: boolean;
  status_code: number | null;
  response: string | null;
  error: string | null;
  alert_id: number;
}
