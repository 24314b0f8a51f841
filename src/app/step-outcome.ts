import type { HealthReport } from './verify-health.js';

/** What one step of a deployment's pipeline reports (pipeline.ts, database-steps.ts). */
export interface StepOutcome {
  ok: boolean;
  refused?: boolean;
  lockLost?: boolean;
  /** What to do next, when the failure came with one. */
  hint?: string;
  detail: Record<string, unknown>;
  health?: HealthReport;
  error?: string;
}
