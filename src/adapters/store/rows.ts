// Rows as the tables hold them (snake_case, JSON text, bigint counts) to the store's records, and back.

import type { Selectable } from 'kysely';
import type { Identity } from '../../core/identity.js';
import { decodeDocument } from './json-document.js';
import type {
  ApprovalRecord, ApprovalState, AuditRecord, BackupRecord, DeploymentRecord, DeploymentState, IncidentRecord, LockRecord,
  ReleaseRecord, StepRecord, StepState, Verdict, WatchKind, WatchRecord, WatchState,
} from './store.js';
import type { Database } from './tables.js';

// PostgreSQL 23505; better-sqlite3 names the extended code; node:sqlite gives the number
// (1555 SQLITE_CONSTRAINT_PRIMARYKEY, 2067 SQLITE_CONSTRAINT_UNIQUE).
export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; errcode?: number };
  return e?.code === '23505' || e?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || e?.code === 'SQLITE_CONSTRAINT_UNIQUE' || e?.errcode === 1555 || e?.errcode === 2067;
}

export const toWatch = (r: Selectable<Database['watches']>): WatchRecord => ({
  id: Number(r.id), kind: r.kind as WatchKind, env: r.env, version: r.version, deploymentId: Number(r.deployment_id), state: r.state as WatchState,
  startedAt: r.started_at, updatedAt: r.updated_at, finishedAt: r.finished_at, data: decodeDocument(r.data),
});

export const toApproval = (r: Selectable<Database['approvals']>): ApprovalRecord => ({
  id: Number(r.id), env: r.env, action: r.action, subject: r.subject, requester: r.requester, reason: r.reason, required: Number(r.required),
  state: r.state as ApprovalState, createdAt: r.created_at, expiresAt: r.expires_at, approvers: JSON.parse(r.approvers) as ApprovalRecord['approvers'],
  requesterIdentity: r.requester_identity ? (JSON.parse(r.requester_identity) as Identity) : null,
});

export const toBackup = (r: Selectable<Database['backups']>): BackupRecord => ({
  id: Number(r.id), env: r.env, deploymentId: r.deployment_id === null ? null : Number(r.deployment_id), file: r.file, sizeBytes: Number(r.size_bytes),
  sha256: r.sha256, createdAt: r.created_at, verifiedEntries: Number(r.verified_entries), detail: JSON.parse(r.detail) as Record<string, unknown>,
});

export const toIncident = (r: Selectable<Database['incidents']>): IncidentRecord => ({
  id: Number(r.id), env: r.env, openedAt: r.opened_at, state: r.state as IncidentRecord['state'], data: decodeDocument<Record<string, unknown>>(r.data),
});

export const toAudit = (r: Selectable<Database['audit']>): AuditRecord => ({
  seq: Number(r.seq), at: r.at, actor: r.actor, action: r.action, env: r.env, version: r.version, reason: r.reason,
  outcome: r.outcome, detail: JSON.parse(r.detail) as Record<string, unknown>, prevHash: r.prev_hash, hash: r.hash, mac: r.mac ?? null,
});

export const toLock = (r: Selectable<Database['locks']>): LockRecord => ({
  env: r.env, owner: r.owner, actor: r.actor, reason: r.reason, token: r.token, acquiredAt: r.acquired_at,
  leaseUntil: r.lease_until, host: r.host, pid: Number(r.pid), generation: r.generation === null || r.generation === undefined ? null : Number(r.generation),
});

export const fromLock = (l: LockRecord) => ({
  env: l.env, owner: l.owner, actor: l.actor, reason: l.reason, token: l.token, acquired_at: l.acquiredAt,
  lease_until: l.leaseUntil, host: l.host, pid: l.pid, generation: l.generation ?? null,
});

export const toDeployment = (r: Selectable<Database['deployments']>): DeploymentRecord => ({
  id: Number(r.id), env: r.env, kind: r.kind as DeploymentRecord['kind'], version: r.version, fromVersion: r.from_version,
  state: r.state as DeploymentState, actor: r.actor, reason: r.reason, causeId: r.cause_id === null ? null : Number(r.cause_id),
  error: r.error, host: r.host, pid: Number(r.pid), startedAt: r.started_at, updatedAt: r.updated_at, finishedAt: r.finished_at,
  meta: decodeDocument<Record<string, unknown>>(r.meta ?? '{}'),
});

export const toStep = (r: Selectable<Database['steps']>): StepRecord => ({
  id: Number(r.id), deploymentId: Number(r.deployment_id), name: r.name, seq: Number(r.seq), state: r.state as StepState,
  startedAt: r.started_at, finishedAt: r.finished_at, detail: decodeDocument<Record<string, unknown>>(r.detail),
});

export const toRelease = (r: Selectable<Database['releases']>): ReleaseRecord => ({
  env: r.env, version: r.version, commit: r.commit, verdict: r.verdict as Verdict | null, reason: r.reason, updatedAt: r.updated_at,
});
