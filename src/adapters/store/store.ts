/**
 * The store port: everything shipgate must remember across processes. One implementation
 * (Kysely) serves both SQLite and PostgreSQL; see ./kysely-store.ts.
 */

import type { Identity } from '../../core/identity.js';
import type { Role } from '../../core/roles.js';
import type { SessionTable } from './session-table.js';

export type { SessionRecord, SessionTable } from './session-table.js';

/** A stop is recorded in the same history: after it, the environment runs nothing. */
export type DeploymentKind = 'deploy' | 'rollback' | 'stop';
export type DeploymentState = 'running' | 'succeeded' | 'failed' | 'aborted';
export type StepState = 'started' | 'succeeded' | 'failed';
export type Verdict = 'good' | 'bad';

export interface AuditInput {
  at: string;
  actor: string;
  action: string;
  env?: string | null;
  version?: string | null;
  reason?: string | null;
  outcome: string;
  detail?: Record<string, unknown>;
}

export interface AuditRecord extends Required<Omit<AuditInput, 'detail'>> {
  seq: number;
  detail: Record<string, unknown>;
  prevHash: string;
  hash: string;
  /** HMAC of `hash` with the audit key; null for events written before keys existed. */
  mac: string | null;
}

export interface AuditVerification {
  ok: boolean;
  checked: number;
  /** First sequence number that is altered or missing. */
  firstBadSeq?: number;
  /** missing/unlinked/altered: the chain; forged: a MAC; cut/emptied/rewritten: against the checkpoint. */
  kind?: 'missing' | 'unlinked' | 'altered' | 'forged' | 'key-missing' | 'cut' | 'emptied' | 'rewritten' | 'checkpoint';
  problem?: string;
  /** With an audit seal: events carrying a valid MAC, and older events written before keys. */
  keyed?: number;
  unkeyed?: number;
  /** The checkpointed head the log was checked against; null when there is none yet. */
  checkpoint?: { seq: number; hash: string } | null;
}

export interface LockRecord {
  env: string;
  owner: string;
  actor: string;
  reason: string;
  token: string;
  acquiredAt: string;
  leaseUntil: string;
  host: string;
  pid: number;
  /**
   * The fencing generation of the controller that took the lock as leader; null for a command.
   * Once a newer generation leads, such a lock's holder can write nothing: the lock is stale
   * whatever its lease says, so the next leader can finish the work it left on another host.
   */
  generation?: number | null;
}

/** The controller leader's lease. `generation` is the fencing token: it grows on every takeover. */
export interface LeaderRecord {
  generation: number;
  owner: string;
  host: string;
  pid: number;
  acquiredAt: string;
  leaseUntil: string;
}

/** A running controller's heartbeat: the leader, or a standby waiting for the lease. */
export interface ControllerRecord {
  id: string;
  host: string;
  pid: number;
  role: 'leader' | 'standby';
  generation: number | null;
  startedAt: string;
  seenAt: string;
  leaseMs: number;
}

/** Leadership among `shipgate serve` processes sharing one store (./leadership.ts). */
export interface ControllerTable {
  getLeader(): Promise<LeaderRecord | undefined>;
  /**
   * Becomes leader at the next generation, if the row is still the one read (`expected`: same
   * generation and lease, so a renewal in between wins), or if there is none (`expected` undefined).
   */
  claimLeader(expected: LeaderRecord | undefined, claim: Omit<LeaderRecord, 'generation'>): Promise<LeaderRecord | undefined>;
  /** Extends the lease while `generation` is still the leader's. */
  renewLeader(generation: number, leaseUntil: string): Promise<boolean>;
  /** Ends the lease now; the generation stays, so whoever leads next leads at a higher one. */
  resignLeader(generation: number, at: string): Promise<boolean>;
  heartbeat(controller: ControllerRecord): Promise<void>;
  list(): Promise<ControllerRecord[]>;
  remove(id: string): Promise<void>;
}

export interface DeploymentRecord {
  id: number;
  env: string;
  kind: DeploymentKind;
  version: string;
  fromVersion: string | null;
  state: DeploymentState;
  actor: string;
  reason: string | null;
  causeId: number | null;
  error: string | null;
  host: string;
  pid: number;
  startedAt: string;
  updatedAt: string;
  finishedAt: string | null;
  /** Facts gathered along the way (baseline, declared change types), as JSON. */
  meta: Record<string, unknown>;
}

export type WatchKind = 'soak' | 'monitor';
export type WatchState = 'running' | 'passed' | 'failed' | 'rolled-back' | 'aborted' | 'inconclusive';

/** A soak (staging) or a monitor (production): timed observation of one deployed release. */
export interface WatchRecord<D = unknown> {
  id: number;
  kind: WatchKind;
  env: string;
  version: string;
  deploymentId: number;
  state: WatchState;
  startedAt: string;
  updatedAt: string;
  finishedAt: string | null;
  data: D;
}

export interface IncidentRecord<D = Record<string, unknown>> {
  id: number;
  env: string;
  openedAt: string;
  state: 'open' | 'closed';
  data: D;
}

export type ApprovalState = 'pending' | 'approved' | 'expired' | 'used';

/** A request for N distinct people (never the requester) to approve one action. */
export interface ApprovalRecord {
  id: number;
  env: string;
  action: string;
  subject: string;
  requester: string;
  reason: string;
  required: number;
  state: ApprovalState;
  createdAt: string;
  expiresAt: string;
  /** How the requester is known; null on requests made before identities were recorded. */
  requesterIdentity: Identity | null;
  approvers: { by: string; at: string; identity?: Identity }[];
}

export interface AttestationRecord {
  id: number;
  version: string;
  item: string;
  by: string;
  at: string;
  note: string | null;
}

export interface BackupRecord {
  id: number;
  env: string;
  deploymentId: number | null;
  file: string;
  sizeBytes: number;
  sha256: string;
  createdAt: string;
  /** Table of contents entries `pg_restore --list` read back: proof the dump is readable. */
  verifiedEntries: number;
  detail: Record<string, unknown>;
}

export interface StepRecord {
  id: number;
  deploymentId: number;
  name: string;
  seq: number;
  state: StepState;
  startedAt: string;
  finishedAt: string | null;
  detail: Record<string, unknown>;
}

export interface ReleaseRecord {
  env: string;
  version: string;
  commit: string;
  verdict: Verdict | null;
  reason: string | null;
  updatedAt: string;
}

export type NewDeployment = Omit<DeploymentRecord, 'id' | 'updatedAt' | 'finishedAt' | 'error' | 'state' | 'meta'> & { meta?: object };

export interface Store {
  readonly dialect: 'sqlite' | 'postgres';
  close(): Promise<void>;

  /** Leader lease, fencing generation and heartbeats of the controllers (never fenced itself). */
  readonly controllers: ControllerTable;
  /** The control room's browser sessions (./session-table.ts), shared by every controller; never fenced. */
  readonly sessions: SessionTable;
  /**
   * This store as the controller leading at `generation` uses it: every write runs in a transaction
   * that first checks the generation is still the leader's (and holds the leader row until it
   * commits, so a takeover waits for it), and throws FencedError otherwise. Reads are not fenced.
   */
  fenced(generation: number, options?: { idleTimeoutMs?: number }): Store;

  appendAudit(event: AuditInput): Promise<AuditRecord>;
  listAudit(filter?: { env?: string; action?: string; version?: string; limit?: number; sinceSeq?: number }): Promise<AuditRecord[]>;
  verifyAudit(): Promise<AuditVerification>;

  /** Inserts the lock if no one holds it; returns the holder otherwise. */
  tryAcquireLock(lock: LockRecord): Promise<{ acquired: true } | { acquired: false; holder: LockRecord }>;
  /** Replaces the holder only if it is still `expectedToken` (compare-and-swap). */
  takeOverLock(expectedToken: string, lock: LockRecord): Promise<boolean>;
  renewLock(env: string, token: string, leaseUntil: string): Promise<boolean>;
  releaseLock(env: string, token: string): Promise<boolean>;
  forceReleaseLock(env: string): Promise<LockRecord | undefined>;
  getLock(env: string): Promise<LockRecord | undefined>;
  listLocks(): Promise<LockRecord[]>;

  createDeployment(d: NewDeployment, at: string): Promise<DeploymentRecord>;
  finishDeployment(id: number, state: DeploymentState, at: string, error?: string | null): Promise<void>;
  adoptDeployment(id: number, host: string, pid: number, at: string): Promise<void>;
  getDeployment(id: number): Promise<DeploymentRecord | undefined>;
  setDeploymentMeta(id: number, meta: object): Promise<void>;
  listDeployments(filter: { env?: string; limit?: number }): Promise<DeploymentRecord[]>;

  startStep(deploymentId: number, name: string, seq: number, at: string): Promise<StepRecord>;
  finishStep(stepId: number, state: StepState, at: string, detail?: Record<string, unknown>): Promise<void>;
  listSteps(deploymentId: number): Promise<StepRecord[]>;

  recordRelease(env: string, version: string, commit: string, at: string): Promise<void>;
  setVerdict(env: string, version: string, verdict: Verdict, reason: string | null, at: string): Promise<void>;
  getRelease(env: string, version: string): Promise<ReleaseRecord | undefined>;
  listReleases(env: string): Promise<ReleaseRecord[]>;

  createWatch<D>(kind: WatchKind, env: string, version: string, deploymentId: number, at: string, data: D): Promise<WatchRecord<D>>;
  /**
   * `ifRunning`: only if the watch is still running (an evaluation must not bring back a watch a
   * deploy aborted meanwhile); otherwise nothing is written and the watch is returned as it is.
   */
  updateWatch<D>(id: number, patch: { state: WatchState; data: D; finishedAt: string | null }, at: string, options?: { ifRunning?: boolean }): Promise<WatchRecord<D>>;
  getWatch(id: number): Promise<WatchRecord | undefined>;
  /** Newest first. */
  listWatches(filter: { env?: string; kind?: WatchKind; state?: WatchState; limit?: number }): Promise<WatchRecord[]>;

  getValues(keys: string[]): Promise<Record<string, string | null>>;
  setValues(values: Record<string, string>, at: string): Promise<void>;

  createApproval(a: Omit<ApprovalRecord, 'id' | 'state' | 'approvers' | 'requesterIdentity'> & { requesterIdentity?: Identity | null }): Promise<ApprovalRecord>;
  getApproval(id: number): Promise<ApprovalRecord | undefined>;
  /** Newest first. */
  listApprovals(filter: { env?: string; state?: ApprovalState; action?: string; subject?: string; limit?: number }): Promise<ApprovalRecord[]>;
  updateApproval(id: number, patch: { state?: ApprovalState; approvers?: ApprovalRecord['approvers']; requesterIdentity?: Identity }): Promise<void>;
  /** Takes an approved approval for one action (approved → used) in one statement; false when it was not approved any more (another run took it, or it expired). */
  claimApproval(id: number): Promise<boolean>;
  /** Gives a claimed approval back (used → approved) when the action it was claimed for could not start. */
  returnApproval(id: number): Promise<boolean>;

  addAttestation(a: Omit<AttestationRecord, 'id'>): Promise<AttestationRecord>;
  listAttestations(version: string): Promise<AttestationRecord[]>;

  createBackup(b: Omit<BackupRecord, 'id'>): Promise<BackupRecord>;
  getBackup(id: number): Promise<BackupRecord | undefined>;
  /** Newest first. */
  listBackups(filter: { env?: string; deploymentId?: number; limit?: number }): Promise<BackupRecord[]>;

  createIncident<D extends object>(env: string, at: string, data: D): Promise<IncidentRecord<D>>;
  updateIncident(id: number, patch: { state?: 'open' | 'closed'; data?: object }): Promise<void>;
  getIncident(id: number): Promise<IncidentRecord | undefined>;
  /** Newest first. */
  listIncidents(filter: { env?: string; limit?: number }): Promise<IncidentRecord[]>;

  /** One row per check per evaluation of a soak or monitor, appended by the controller. */
  appendReadings(watchId: number, at: string, rows: NewReading[]): Promise<void>;
  /** Oldest first: the last `limit` readings of a watch (after `afterId` when given). */
  listReadings(watchId: number, filter?: { afterId?: number; limit?: number }): Promise<ReadingRecord[]>;
  /** Readings of every watch after `afterId`, oldest first (at most `limit`), and the newest id (0 for none). */
  readingsAfter(afterId: number, limit: number): Promise<ReadingRecord[]>;
  latestReadingId(): Promise<number>;
  /** Deletes readings taken before `before` (ISO-8601), none of a running watch; returns how many went. */
  pruneReadings(before: string): Promise<number>;

  /** API tokens: the salted hash only; the secret is shown once when created and never stored. */
  createApiToken(t: NewApiToken): Promise<ApiTokenRecord>;
  getApiToken(id: number): Promise<ApiTokenRecord | undefined>;
  listApiTokens(): Promise<ApiTokenRecord[]>;
  /** False when there is no live token by that id (unknown or already revoked). */
  revokeApiToken(id: number, at: string): Promise<boolean>;

  /** CI test outcomes (ci triage, JUnit files) for flaky-test detection. */
  recordTestOutcomes(rows: TestOutcomeRecord[]): Promise<void>;
  /** Pass and fail counts per test and commit, optionally for some tests only. */
  countTestOutcomes(filter?: { tests?: string[] }): Promise<{ test: string; commit: string; passed: number; failed: number; lastSeen: string }[]>;
}

export interface TestOutcomeRecord {
  commit: string;
  test: string;
  outcome: 'passed' | 'failed';
  /** Where it was seen, e.g. `run 7 attempt 2`, `junit reports/unit.xml`. */
  source: string;
  recordedAt: string;
}

/** An API token as stored: who owns it, its role, and a salted HMAC-SHA-256 of its secret. */
export interface ApiTokenRecord {
  id: number;
  name: string;
  role: Role;
  /** Random per token (hex); the key of the HMAC. */
  salt: string;
  /** HMAC-SHA-256(salt, secret), hex. */
  hash: string;
  createdAt: string;
  createdBy: string;
  revokedAt: string | null;
}

export type NewApiToken = Omit<ApiTokenRecord, 'id' | 'revokedAt'>;

/** One evaluation of one check: its verdict, the measured value, and the evidence (threshold, baseline, test statistic and bounds). */
export interface ReadingRecord {
  id: number;
  watchId: number;
  check: string;
  at: string;
  verdict: 'pass' | 'fail' | 'inconclusive' | 'error';
  value: number | null;
  evidence: Record<string, unknown>;
  reason: string;
}

export type NewReading = Omit<ReadingRecord, 'id' | 'watchId' | 'at'>;
