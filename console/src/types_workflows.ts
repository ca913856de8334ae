// Shapes of the forecast and template API answers (issue 11).
import type { Json } from "./types";

export interface HotSpot {
  start: string;
  fires: number;
  on_the_hour: number;
  jobs: string[];
  job_count: number;
}

export interface ForecastChange {
  job_id: string;
  expr: string;
  suggested: string;
}

export interface Forecast {
  start: string;
  end: string;
  bucket_s: number;
  first_bucket: string;
  buckets: number[];
  fires: number;
  jobs: number;
  threshold: number;
  peak: number;
  hot_spots: HotSpot[];
  suggestion: {
    changes: ForecastChange[];
    change_count: number;
    buckets: number[];
    peak: number;
    hot_spots: number;
  } | null;
  truncated: string[];
  unreadable: string[];
}

export type Bilingual = { en: string; "zh-CN": string };

export interface TemplateParameter {
  name: string;
  type: "string" | "integer" | "number" | "boolean" | "connection";
  default?: Json;
  required?: boolean;
  secret?: boolean;
  label?: Bilingual;
  help?: Bilingual;
  choices?: Json[];
  minimum?: number;
  maximum?: number;
  max_length?: number;
}

export interface Template {
  name: string;
  version: number;
  builtin: boolean;
  category: string;
  title: Bilingual;
  description: Bilingual;
  parameters: TemplateParameter[];
  job: Record<string, Json>;
  jobs: number;
}

export interface TemplateJob {
  job_id: string;
  template: string;
  version: number;
  params: Record<string, Json>;
  outdated: boolean;
}

export interface RolloutItem {
  job_id: string;
  from_version: number;
  to_version: number;
  changes: { field: string; before: Json; after: Json }[];
  error: string | null;
  error_field: string | null;
}

export interface Rollout {
  template: string;
  version: number;
  items: RolloutItem[];
}
