// Shapes of /api/workflows (src/tickwork/api/schemas_workflows.py).
export type Condition = "success" | "failure" | "always";

export interface Edge {
  step: string;
  on: Condition;
}

export interface Step {
  id: string;
  job: string;
  after: Edge[];
}

export interface Workflow {
  id: string;
  name: string;
  description: string;
  steps: Step[];
  trigger: { kind: string; expr?: string; tz?: string } | null;
  timezone: string;
  deadline_s: number | null;
  paused: boolean;
  next_fire_at: string | null;
  owner: string;
  owner_ref: string | null;
  version: number;
}

export interface StepRun {
  step: string;
  job_id: string;
  state: string;
  run_id: number | null;
  reason: string | null;
  carried: boolean;
  released_at: string | null;
  finished_at: string | null;
}

export interface WorkflowRun {
  id: number;
  workflow_id: string;
  scheduled_for: string;
  reason: string;
  status: string;
  steps: Step[];
  deadline_at: string | null;
  rerun_of: number | null;
  triggered_by: string | null;
  created_at: string;
  finished_at: string | null;
  error: string | null;
  step_runs: StepRun[];
}
