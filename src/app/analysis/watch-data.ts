import type { CheckBaseline, CheckResult, CheckState } from '../../core/analysis/checks.js';
import type { MonitorPhase } from '../../core/monitor-phase.js';
import type { Blindness } from '../../core/monitor-rules.js';
import type { SoakClass } from '../../core/soak-policy.js';

/** What a soak keeps in the store between evaluations (so a restarted controller resumes it). */
export interface SoakData {
  requiredMs: number;
  soakClass: SoakClass;
  changeTypes: string[];
  changeSource: string;
  maxInconclusive: number;
  evaluatedMs: number;
  inconclusiveMs: number;
  lastEvaluatedAt: string | null;
  /** Wall-clock time of the last evaluation: a controller outage is measured in real time. */
  lastEvaluatedRealMs: number | null;
  checks: Record<string, CheckState>;
  latest: CheckResult[];
  baseline: Record<string, CheckBaseline>;
  reason: string | null;
  failedCheck: string | null;
}

export interface Trigger {
  check: string;
  reason: string;
  at: string;
  evidence?: unknown;
}

export interface MonitorData {
  phase: MonitorPhase;
  autoRollback: boolean;
  liveAt: string;
  lastEvaluatedAt: string | null;
  checks: Record<string, CheckState>;
  latest: CheckResult[];
  baseline: Record<string, CheckBaseline>;
  warnings: { at: string; phase: MonitorPhase; message: string }[];
  unhealthySince: string | null;
  /** Set while a metrics source has failed `consecutiveErrors` times in a row: the release is not watched. */
  blind?: Blindness | null;
  /** First evaluation after the monitoring window: the bounded wait for evidence counts from here. */
  overSince?: string | null;
  logErrorLines: number;
  /** Real time (epoch ms) the logs were last read; they are read at most every LOG_SCAN_EVERY_MS. */
  logsReadAtRealMs?: number | null;
  trigger: Trigger | null;
  rollback: null | { deploymentId: number; ok: boolean; version: string; finishedAt: string; error?: string | undefined };
  incidentId: number | null;
  reason: string | null;
}

export interface DeploymentMeta {
  changeTypes?: string[];
  baseline?: Record<string, CheckBaseline>;
  baselineNote?: string;
  /** Why a rollback happened (a monitor trigger, a failed verification, a person). */
  trigger?: Trigger;
  /** What a rollback does to the database: restore a backup, run down migrations, or nothing (with why). */
  database?: { action: 'restore' | 'down' | 'skipped'; detail: string; backupId?: number; fromVersion?: string; acceptDataLoss?: boolean } | null;
}
