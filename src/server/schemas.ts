// The API's requests and responses as zod schemas: requests are parsed with them, and the OpenAPI
// document (openapi.ts) is generated from the same schemas.
import { z } from 'zod';
import { CHANGE_TYPES } from '../config/change-types.js';
import { parseDuration } from '../core/duration.js';
import { ROLES } from '../core/roles.js';

const envName = z.string().min(1).max(64).describe('an environment of shipgate.yml, e.g. production');
const reason = z.string().trim().min(1).max(2000);

// ---- requests ---------------------------------------------------------------------------

export const loginBody = z.object({ token: z.string().min(1).describe('an API token from `shipgate token create`') });
export const approvalRequestBody = z.object({
  env: envName,
  for: z.enum(['breaker-reset', 'breaker-reset-force', 'killswitch-off']).describe('the action to be approved'),
  reason,
});
export const breakerTripBody = z.object({ env: envName, reason });
export const breakerResetBody = z.object({ env: envName, reason: reason.optional(), force: z.boolean().optional().describe('override failing preconditions (needs the emergency approvals and --reason)') });
export const killSwitchOnBody = z.object({ env: envName, reason, flatten: z.boolean().optional(), timeoutMs: z.number().int().positive().max(600_000).optional() });
export const killSwitchOffBody = z.object({ env: envName, reason: reason.optional() });

/** An override needs a reason: it goes into the audit log. */
const needsReason = (flag: string) => (b: { reason?: string | undefined }, ctx: z.RefinementCtx) => {
  if (!b.reason) ctx.addIssue({ code: 'custom', path: ['reason'], message: `${flag} needs a reason (it goes into the audit log)` });
};
const version = z.string().min(1).max(200).describe('a git tag or commit');
export const deployBody = z.object({
  env: envName,
  version: version.optional().describe('the release to deploy (required unless resume)'),
  resume: z.boolean().optional().describe('finish an interrupted deployment of this environment'),
  reason: reason.optional().describe('why, for the audit log (required with allowBad or allowTripped)'),
  changeTypes: z.array(z.enum(CHANGE_TYPES)).optional().describe('change types that lengthen or shorten the soak'),
  allowTripped: z.boolean().optional().describe('deploy although the kill switch is on or the breaker TRIPPED (role approver, needs reason)'),
  allowBad: z.boolean().optional().describe('deploy a release marked bad in this environment (role approver, needs reason; audited as deploy.allow-bad)'),
}).superRefine((b, ctx) => {
  if (!b.version && !b.resume) ctx.addIssue({ code: 'custom', path: ['version'], message: 'a version is required (or resume: true to finish an interrupted deployment)' });
  if (b.allowBad) needsReason('allowBad')(b, ctx);
  if (b.allowTripped) needsReason('allowTripped')(b, ctx);
});
export const promoteBody = z.object({
  env: envName,
  version: version.optional().describe('the release to promote (default: what promoteFrom runs)'),
  reason: reason.optional().describe('why (required with emergency or allowTripped)'),
  emergency: z.boolean().optional().describe('an emergency hotfix during the market session: needs the emergency approvals and onCall'),
  onCall: z.string().trim().min(1).max(200).optional().describe('the on-call engineer watching this deploy'),
  allowTripped: z.boolean().optional().describe('promote although the kill switch is on or the breaker TRIPPED (role approver, needs reason)'),
}).superRefine((b, ctx) => {
  if (b.allowTripped) needsReason('allowTripped')(b, ctx);
  if (b.emergency) needsReason('emergency')(b, ctx);
});
export const rollbackBody = z.object({
  env: envName,
  reason: reason.describe('why: recorded in the audit log and the incident'),
  to: version.optional().describe('the version to return to (default: the last known good one)'),
  db: z.enum(['restore', 'down', 'skip']).optional().describe('when the release ran migrations: restore the pre-deploy backup, run its down migration, or skip (default from database.rollback)'),
  acceptDataLoss: z.boolean().optional().describe('allow a restore that discards writes made since the backup (role approver)'),
});
export const stopBody = z.object({ env: envName, reason });
export const lockAcquireBody = z.object({ env: envName, reason, lease: z.string().min(1).max(20).refine((v) => (parseDuration(v) ?? 0) > 0, { message: 'must be a duration such as 30m, 2h or 1d' }).optional().describe('how long the hold lasts, e.g. 30m, 2h (default 1h)') });
export const lockReleaseBody = z.object({
  env: envName,
  force: z.boolean().optional().describe('break a lock held by someone else or by a dead process (role approver, needs reason)'),
  reason: reason.optional(),
}).superRefine((b, ctx) => {
  if (b.force) needsReason('force')(b, ctx);
});
export const envBody = z.object({ env: envName });
export const restoreBody = z.object({
  env: envName,
  backupId: z.number().int().positive().describe('the backup to restore (GET /api/backups)'),
  acceptDataLoss: z.boolean().optional().describe('restore although rows written since the backup (or an old backup) are lost'),
  reason,
});
export const preflightBody = z.object({
  version,
  env: envName.optional().describe('the target environment (default production)'),
  attest: z.object({ item: z.string().min(1).max(100).describe('e.g. stakeholders-notified'), note: z.string().trim().max(2000).optional() }).optional()
    .describe('record that the token\'s owner checked an item, before the checklist runs'),
});
export const announceBody = z.object({ version, env: envName.optional().describe('default production'), message: reason.describe('e.g. "Deploying v1.3.0 to production at 6pm ET (after market close)"') });
export const ciRerunBody = z.object({ run: z.string().trim().min(1).max(300).describe('a workflow run id or run URL; only its failed jobs (and their dependents) run again') });
export const tokenRevokeBody = z.object({ reason: reason.optional() });
/** GET /api/decide's query: each left out is unknown, as a flag left out of `shipgate decide`. */
const flag = z.enum(['true', 'false']).transform((v) => v === 'true');
export const decideQuery = z.object({
  affected: z.string().optional().describe('share of users/trades affected: 0.3 or 30%'),
  dataIntegrityAtRisk: flag.optional(), rootCauseKnown: flag.optional(),
  fixEta: z.string().optional().describe('how long the fix will take, with a unit: 45m, 2h'),
  components: z.string().optional().describe('how many components are affected'),
  fixTested: flag.optional(), rollbackLosesData: flag.optional(), critical: flag.optional(),
});

// ---- responses --------------------------------------------------------------------------

export const errorResponse = z.object({
  ok: z.literal(false),
  error: z.object({ message: z.string(), where: z.string().optional(), hint: z.string().optional(), data: z.record(z.string(), z.unknown()).optional() }),
});

const identity = z.looseObject({ method: z.string(), principal: z.string() });

export const meResponse = z.object({ name: z.string(), role: z.enum(ROLES), tokenId: z.number().int(), via: z.enum(['bearer', 'session']) });
export const loginResponse = z.object({ ok: z.literal(true), name: z.string(), role: z.enum(ROLES), csrfToken: z.string().describe('send it as X-CSRF-Token on every mutating request of this session') });

export const approval = z.object({
  id: z.number().int(), env: z.string(), action: z.string(), subject: z.string(), requester: z.string(), reason: z.string(), required: z.number().int(),
  state: z.enum(['pending', 'approved', 'expired', 'used']), createdAt: z.string(), expiresAt: z.string(),
  requesterIdentity: identity.nullable(), approvers: z.array(z.object({ by: z.string(), at: z.string(), identity: identity.optional() })),
});
export const approvalsResponse = z.object({ approvals: z.array(approval) });
export const approvalResponse = z.object({ ok: z.literal(true), approval });

export const auditEvent = z.object({
  seq: z.number().int(), at: z.string(), actor: z.string(), action: z.string(), env: z.string().nullable(), version: z.string().nullable(), reason: z.string().nullable(),
  outcome: z.string(), detail: z.record(z.string(), z.unknown()), prevHash: z.string(), hash: z.string(), mac: z.string().nullable(),
});
export const auditResponse = z.object({ events: z.array(auditEvent) });

const step = z.object({ id: z.number().int(), name: z.string(), seq: z.number().int(), state: z.enum(['started', 'succeeded', 'failed']), startedAt: z.string(), finishedAt: z.string().nullable(), detail: z.record(z.string(), z.unknown()) });
export const deployment = z.object({
  id: z.number().int(), env: z.string(), kind: z.enum(['deploy', 'rollback', 'stop']), version: z.string(), fromVersion: z.string().nullable(),
  state: z.enum(['running', 'succeeded', 'failed', 'aborted']), actor: z.string(), reason: z.string().nullable(), causeId: z.number().int().nullable(), error: z.string().nullable(),
  host: z.string(), pid: z.number().int(), startedAt: z.string(), updatedAt: z.string(), finishedAt: z.string().nullable(), meta: z.record(z.string(), z.unknown()), steps: z.array(step),
});
export const deploymentsResponse = z.object({ deployments: z.array(deployment) });

export const environmentsResponse = z.object({ environments: z.array(z.looseObject({ env: z.string(), currentVersion: z.string().nullable(), previousGoodVersion: z.string().nullable() })) });

const flagReading = z.looseObject({ value: z.string().nullable(), meaning: z.enum(['trading', 'halted', 'unknown']) });
export const safetyStatus = z.looseObject({
  env: z.string(), source: z.string(), breaker: z.string(), killswitch: z.boolean(), halted: z.boolean(),
  tripReason: z.string().nullable().describe('why the breaker is halted, while it is halted or unknown; null once it reads as trading again (see trippedAt, lastReset and the audit log)'),
  trippedAt: z.string().nullable(), lastReset: z.string().nullable(),
  state: z.object({ breaker: flagReading, killSwitch: flagReading }),
});
export const safetyResponse = z.object({ safety: safetyStatus });
export const preconditionsResponse = z.object({
  status: safetyStatus,
  preconditions: z.array(z.object({
    name: z.string(), state: z.enum(['met', 'unmet', 'unknown', 'not-configured']).describe('unknown (could not be read) blocks the reset like unmet'),
    detail: z.string(), blocking: z.boolean(),
  })).describe('empty when the breaker already reads as trading'),
  refusals: z.array(z.string()).describe('why a reset would be refused now (kill switch, blocking preconditions)'),
  approval: approval.nullable().describe('the open breaker-reset approval request, if any'),
});
export const runbookResponse = z.looseObject({ ok: z.boolean(), steps: z.array(z.looseObject({ step: z.string(), ok: z.boolean(), detail: z.string() })).optional() });

export const incidentsResponse = z.object({ incidents: z.array(z.looseObject({ id: z.number().int(), env: z.string(), openedAt: z.string(), state: z.enum(['open', 'closed']), data: z.record(z.string(), z.unknown()) })) });
export const incidentResponse = z.object({ incident: z.looseObject({ id: z.number().int(), env: z.string(), timeline: z.array(z.looseObject({ seq: z.number().int(), action: z.string() })) }) });

export const windowResponse = z.looseObject({ open: z.boolean(), reason: z.string(), nextOpen: z.string().nullable().optional(), at: z.string(), timezone: z.string(), policy: z.string() });

const verdictRun = z.object({ verdict: z.enum(['pass', 'fail', 'inconclusive', 'error']), from: z.string(), to: z.string(), count: z.number().int() });
export const soaksResponse = z.object({ soaks: z.array(z.looseObject({ id: z.number().int(), env: z.string(), version: z.string(), state: z.string(), verdict: z.string(), remainingMs: z.number(), gates: z.array(z.looseObject({ name: z.string(), verdict: z.string(), history: z.array(verdictRun) })) })) });
export const monitorsResponse = z.object({ monitors: z.array(z.looseObject({ id: z.number().int(), env: z.string(), version: z.string(), state: z.string(), phase: z.string(), status: z.string() })) });

export const seriesPoint = z.object({
  at: z.string(), verdict: z.enum(['pass', 'fail', 'inconclusive', 'error']), value: z.number().nullable().describe('the measured value: error rate, latency quantile (s) or gauge'),
  threshold: z.number().nullable(), baseline: z.number().nullable(), statistic: z.number().nullable().describe('the sequential test\'s log-likelihood ratio (CUSUM; regression at upper)'),
  wald: z.number().nullable().describe('its unclamped Wald sum since H0 was last accepted (healthy at lower)'),
  lower: z.number().nullable(), upper: z.number().nullable(), reason: z.string(),
});
export const seriesResponse = z.object({
  watch: z.object({ id: z.number().int(), kind: z.enum(['soak', 'monitor']), env: z.string(), version: z.string(), state: z.string(), startedAt: z.string(), finishedAt: z.string().nullable() }),
  checks: z.array(z.object({ name: z.string(), points: z.array(seriesPoint), history: z.array(verdictRun) })),
});

export const flakyResponse = z.object({ flaky: z.array(z.object({ test: z.string(), passed: z.number().int(), failed: z.number().int(), commits: z.array(z.string()), lastSeen: z.string() })) });
export const triageResponse = z.object({ runs: z.array(z.looseObject({ jobs: z.array(z.looseObject({ category: z.string() })).optional() })) });
export const ciStatusResponse = z.looseObject({ commit: z.string(), state: z.string(), summary: z.string(), checks: z.array(z.looseObject({ name: z.string() })) });

export const okResponse = z.object({ ok: z.literal(true) });

const healthRow = z.looseObject({ service: z.string(), healthy: z.boolean(), reason: z.string() });
export const deploymentOutcome = z.looseObject({
  ok: z.boolean().describe('false: the deployment ran and failed (see failedStep, error, rollback) or a step refused (refused)'),
  deploymentId: z.number().int(), env: z.string(), kind: z.enum(['deploy', 'rollback', 'stop']), version: z.string(), fromVersion: z.string().nullable(),
  failedStep: z.string().optional(), error: z.string().optional(), hint: z.string().optional(), refused: z.boolean().optional(),
  rollback: z.looseObject({ ok: z.boolean(), deploymentId: z.number().int(), version: z.string() }).optional().describe('the automatic return to the last good version after a failed deploy'),
  incidentId: z.number().int().optional(),
});
export const stopOutcome = z.looseObject({ ok: z.boolean(), env: z.string(), deploymentId: z.number().int(), stoppedVersion: z.string().nullable(), strays: z.array(z.looseObject({ pid: z.number().int(), command: z.string() })), error: z.string().optional() });
const lock = z.looseObject({ env: z.string(), owner: z.string(), actor: z.string(), reason: z.string(), acquiredAt: z.string(), leaseUntil: z.string() });
export const locksResponse = z.object({ locks: z.array(z.object({ env: z.string(), locked: z.boolean(), stale: z.boolean(), lock: lock.nullable() })) });
export const lockResponse = z.object({ ok: z.literal(true), lock });
export const lockReleaseResponse = z.object({ ok: z.literal(true), released: z.boolean(), holder: lock.nullable() });
export const healthResponse = z.object({
  env: z.string(), healthy: z.boolean(), services: z.array(healthRow), restarted: z.array(z.string()),
  strays: z.array(z.looseObject({ pid: z.number().int(), command: z.string() })),
});
export const logsResponse = z.object({ env: z.string(), logs: z.array(z.looseObject({ service: z.string(), lines: z.array(z.string()) })) });
export const controllerResponse = z.looseObject({ leader: z.looseObject({ owner: z.string(), generation: z.number().int() }).nullable(), standbys: z.array(z.looseObject({ id: z.string() })), silent: z.number().int() });
export const auditVerifyResponse = z.looseObject({ ok: z.boolean(), checked: z.number().int(), problem: z.string().optional(), firstBadSeq: z.number().int().optional() });
export const backupsResponse = z.object({ backups: z.array(z.looseObject({ id: z.number().int(), env: z.string(), createdAt: z.string(), file: z.string(), present: z.boolean() })) });
export const backupResponse = z.object({ ok: z.literal(true), backup: z.looseObject({ id: z.number().int(), env: z.string(), file: z.string(), sha256: z.string() }) });
export const killSwitchStatusResponse = safetyStatus.extend({ broker: z.string().nullable(), openOrders: z.number().int().nullable().describe('null: the broker could not say (brokerProblem)'), brokerProblem: z.string().nullable() });
export const restoreResponse = z.looseObject({ ok: z.boolean().describe('false: the integrity check after the restore failed'), env: z.string(), backup: z.looseObject({ id: z.number().int() }), acceptedDataLoss: z.boolean(), removed: z.array(z.string()), durationMs: z.number() });
export const preflightResponse = z.looseObject({ version: z.string(), commit: z.string(), env: z.string(), passed: z.boolean(), items: z.array(z.looseObject({ item: z.string(), title: z.string(), status: z.enum(['pass', 'fail', 'attested', 'info']), evidence: z.string() })), changelog: z.array(z.string()) });
export const announceResponse = z.object({ ok: z.literal(true), version: z.string(), env: z.string() });
export const ciRerunResponse = z.object({ ok: z.literal(true), run: z.looseObject({ id: z.number().int() }) });
const tokenView = z.object({ id: z.number().int(), name: z.string(), role: z.enum(ROLES), createdAt: z.string(), createdBy: z.string(), revokedAt: z.string().nullable() });
export const tokensResponse = z.object({ tokens: z.array(tokenView) });
export const tokenRevokeResponse = z.object({ ok: z.literal(true), token: tokenView });
export const decideResponse = z.looseObject({
  recommendation: z.enum(['rollback', 'fix-forward']), confident: z.boolean(), needsPerson: z.boolean(),
  rulesFired: z.array(z.object({ rule: z.string(), points: z.enum(['rollback', 'fix-forward']) })), unknowns: z.array(z.string()), explanation: z.string(),
});
export const diagnoseResponse = z.object({ env: z.string(), findings: z.array(z.looseObject({ id: z.string(), severity: z.enum(['error', 'warning', 'info']), title: z.string(), evidence: z.array(z.string()), next: z.string() })) });
