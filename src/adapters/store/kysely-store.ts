import type { Kysely } from 'kysely';
import type { Identity } from '../../core/identity.js';
import { appendAudit, listAudit, verifyAudit, type AuditFilter } from './audit-log.js';
import type { AuditSeal } from './audit-seal.js';
import { fenceStore } from './fenced-store.js';
import { encodeDocument } from './json-document.js';
import { KyselyControllerTable } from './leadership.js';
import { forceReleaseLock, getLock, listLocks, releaseLock, renewLock, takeOverLock, tryAcquireLock } from './lock-table.js';
import { KyselySessionTable, type SessionTable } from './session-table.js';
import { appendReadings, latestReadingId, listReadings, pruneReadings, readingsAfter } from './reading-table.js';
import { createApiToken, getApiToken, listApiTokens, revokeApiToken } from './token-table.js';
import { toApproval, toBackup, toDeployment, toIncident, toRelease, toStep, toWatch } from './rows.js';
import type {
  AuditInput, AuditRecord, AuditVerification, ControllerTable, DeploymentRecord, DeploymentState, LockRecord,
  ApprovalRecord, ApprovalState, AttestationRecord, BackupRecord, IncidentRecord, NewDeployment, ReleaseRecord, StepRecord, StepState, Store, Verdict, WatchKind, WatchRecord, WatchState,
} from './store.js';
import type { ApiTokenRecord, NewApiToken, NewReading, ReadingRecord, TestOutcomeRecord } from './store.js';
import type { Database } from './tables.js';

export { auditHash } from './audit-chain.js';

// The one store over both dialects. Its parts: audit-log.ts, lock-table.ts, rows.ts (row <-> record).
export class KyselyStore implements Store {
  readonly controllers: ControllerTable;
  readonly sessions: SessionTable;

  constructor(
    private readonly db: Kysely<Database>,
    readonly dialect: 'sqlite' | 'postgres',
    /** Without one (tests of the bare store), events are hash-chained but not keyed. */
    readonly auditSeal?: AuditSeal,
  ) {
    this.controllers = new KyselyControllerTable(db);
    this.sessions = new KyselySessionTable(db);
  }

  fenced(generation: number, options: { idleTimeoutMs?: number } = {}): Store {
    return fenceStore(this, this.db, (trx) => new KyselyStore(trx, this.dialect, this.auditSeal), generation, options.idleTimeoutMs ?? 5000);
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }

  // ---- audit -------------------------------------------------------------------------

  appendAudit(input: AuditInput): Promise<AuditRecord> {
    return appendAudit(this.db, this.auditSeal, input);
  }

  listAudit(filter: AuditFilter = {}): Promise<AuditRecord[]> {
    return listAudit(this.db, filter);
  }

  verifyAudit(): Promise<AuditVerification> {
    return verifyAudit(this.db, this.auditSeal);
  }

  // ---- locks -------------------------------------------------------------------------

  tryAcquireLock(lock: LockRecord): Promise<{ acquired: true } | { acquired: false; holder: LockRecord }> {
    return tryAcquireLock(this.db, lock);
  }

  takeOverLock(expectedToken: string, lock: LockRecord): Promise<boolean> {
    return takeOverLock(this.db, expectedToken, lock);
  }

  renewLock(env: string, token: string, leaseUntil: string): Promise<boolean> {
    return renewLock(this.db, env, token, leaseUntil);
  }

  releaseLock(env: string, token: string): Promise<boolean> {
    return releaseLock(this.db, env, token);
  }

  forceReleaseLock(env: string): Promise<LockRecord | undefined> {
    return forceReleaseLock(this.db, env);
  }

  getLock(env: string): Promise<LockRecord | undefined> {
    return getLock(this.db, env);
  }

  listLocks(): Promise<LockRecord[]> {
    return listLocks(this.db);
  }

  // ---- deployments and steps ---------------------------------------------------------

  async createDeployment(d: NewDeployment, at: string): Promise<DeploymentRecord> {
    const row = await this.db
      .insertInto('deployments')
      .values({
        env: d.env, kind: d.kind, version: d.version, from_version: d.fromVersion, state: 'running', actor: d.actor,
        reason: d.reason, cause_id: d.causeId, error: null, host: d.host, pid: d.pid, started_at: d.startedAt, updated_at: at, finished_at: null, meta: encodeDocument(d.meta ?? {}),
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toDeployment(row);
  }

  async finishDeployment(id: number, state: DeploymentState, at: string, error: string | null = null): Promise<void> {
    await this.db.updateTable('deployments').set({ state, error, updated_at: at, finished_at: at }).where('id', '=', id).execute();
  }

  async adoptDeployment(id: number, host: string, pid: number, at: string): Promise<void> {
    await this.db.updateTable('deployments').set({ host, pid, updated_at: at }).where('id', '=', id).execute();
  }

  async getDeployment(id: number): Promise<DeploymentRecord | undefined> {
    const row = await this.db.selectFrom('deployments').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toDeployment(row) : undefined;
  }

  async setDeploymentMeta(id: number, meta: object): Promise<void> {
    await this.db.updateTable('deployments').set({ meta: encodeDocument(meta) }).where('id', '=', id).execute();
  }

  async listDeployments(filter: { env?: string; limit?: number }): Promise<DeploymentRecord[]> {
    let q = this.db.selectFrom('deployments').selectAll().orderBy('id', 'desc');
    if (filter.env) q = q.where('env', '=', filter.env);
    if (filter.limit) q = q.limit(filter.limit);
    return (await q.execute()).map(toDeployment);
  }

  async startStep(deploymentId: number, name: string, seq: number, at: string): Promise<StepRecord> {
    // One commit (one fsync) for the intent and the deployment's heartbeat, not two.
    const write = async (db: Kysely<Database>) => {
      const row = await db
        .insertInto('steps')
        .values({ deployment_id: deploymentId, name, seq, state: 'started', started_at: at, finished_at: null, detail: '{}' })
        .returningAll()
        .executeTakeFirstOrThrow();
      await db.updateTable('deployments').set({ updated_at: at }).where('id', '=', deploymentId).execute();
      return toStep(row);
    };
    return this.db.isTransaction ? write(this.db) : this.db.transaction().execute(write);
  }

  async finishStep(stepId: number, state: StepState, at: string, detail: Record<string, unknown> = {}): Promise<void> {
    await this.db.updateTable('steps').set({ state, finished_at: at, detail: encodeDocument(detail) }).where('id', '=', stepId).execute();
  }

  async listSteps(deploymentId: number): Promise<StepRecord[]> {
    return (await this.db.selectFrom('steps').selectAll().where('deployment_id', '=', deploymentId).orderBy('id').execute()).map(toStep);
  }

  // ---- releases ----------------------------------------------------------------------

  async recordRelease(env: string, version: string, commit: string, at: string): Promise<void> {
    await this.db
      .insertInto('releases')
      .values({ env, version, commit, verdict: null, reason: null, updated_at: at })
      .onConflict((oc) => oc.columns(['env', 'version']).doUpdateSet({ commit, updated_at: at }))
      .execute();
  }

  async setVerdict(env: string, version: string, verdict: Verdict, reason: string | null, at: string): Promise<void> {
    await this.db.updateTable('releases').set({ verdict, reason, updated_at: at }).where('env', '=', env).where('version', '=', version).execute();
  }

  async getRelease(env: string, version: string): Promise<ReleaseRecord | undefined> {
    const row = await this.db.selectFrom('releases').selectAll().where('env', '=', env).where('version', '=', version).executeTakeFirst();
    return row ? toRelease(row) : undefined;
  }

  async listReleases(env: string): Promise<ReleaseRecord[]> {
    return (await this.db.selectFrom('releases').selectAll().where('env', '=', env).orderBy('updated_at', 'desc').execute()).map(toRelease);
  }

  // ---- watches and incidents -----------------------------------------------------------

  async createWatch<D>(kind: WatchKind, env: string, version: string, deploymentId: number, at: string, data: D): Promise<WatchRecord<D>> {
    const row = await this.db
      .insertInto('watches')
      .values({ kind, env, version, deployment_id: deploymentId, state: 'running', started_at: at, updated_at: at, finished_at: null, data: encodeDocument(data) })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toWatch(row) as WatchRecord<D>;
  }

  async updateWatch<D>(id: number, patch: { state: WatchState; data: D; finishedAt: string | null }, at: string, options: { ifRunning?: boolean } = {}): Promise<WatchRecord<D>> {
    let q = this.db.updateTable('watches').set({ state: patch.state, data: encodeDocument(patch.data), finished_at: patch.finishedAt, updated_at: at }).where('id', '=', id);
    if (options.ifRunning) q = q.where('state', '=', 'running');
    const row = await q.returningAll().executeTakeFirst();
    if (row) return toWatch(row) as WatchRecord<D>;
    const current = await this.getWatch(id);
    if (!current) throw new Error(`watch ${id} does not exist`);
    return current as WatchRecord<D>;
  }

  async getWatch(id: number): Promise<WatchRecord | undefined> {
    const row = await this.db.selectFrom('watches').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toWatch(row) : undefined;
  }

  async listWatches(filter: { env?: string; kind?: WatchKind; state?: WatchState; limit?: number }): Promise<WatchRecord[]> {
    let q = this.db.selectFrom('watches').selectAll().orderBy('id', 'desc');
    if (filter.env) q = q.where('env', '=', filter.env);
    if (filter.kind) q = q.where('kind', '=', filter.kind);
    if (filter.state) q = q.where('state', '=', filter.state);
    if (filter.limit) q = q.limit(filter.limit);
    return (await q.execute()).map(toWatch);
  }

  async getValues(keys: string[]): Promise<Record<string, string | null>> {
    const rows = keys.length ? await this.db.selectFrom('kv').selectAll().where('key', 'in', keys).execute() : [];
    return Object.fromEntries(keys.map((k) => [k, rows.find((r) => r.key === k)?.value ?? null]));
  }

  async setValues(values: Record<string, string>, at: string): Promise<void> {
    const write = async (trx: Kysely<Database>) => {
      for (const [key, value] of Object.entries(values)) {
        await trx.insertInto('kv').values({ key, value, updated_at: at }).onConflict((oc) => oc.column('key').doUpdateSet({ value, updated_at: at })).execute();
      }
    };
    // Already in a transaction when fenced (a nested one is not supported).
    await (this.db.isTransaction ? write(this.db) : this.db.transaction().execute(write));
  }

  async createApproval(a: Omit<ApprovalRecord, 'id' | 'state' | 'approvers' | 'requesterIdentity'> & { requesterIdentity?: Identity | null }): Promise<ApprovalRecord> {
    const row = await this.db
      .insertInto('approvals')
      .values({ env: a.env, action: a.action, subject: a.subject, requester: a.requester, reason: a.reason, required: a.required, state: 'pending', created_at: a.createdAt, expires_at: a.expiresAt, approvers: '[]', requester_identity: a.requesterIdentity ? JSON.stringify(a.requesterIdentity) : null })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toApproval(row);
  }

  async getApproval(id: number): Promise<ApprovalRecord | undefined> {
    const row = await this.db.selectFrom('approvals').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toApproval(row) : undefined;
  }

  async listApprovals(filter: { env?: string; state?: ApprovalState; action?: string; subject?: string; limit?: number }): Promise<ApprovalRecord[]> {
    let q = this.db.selectFrom('approvals').selectAll().orderBy('id', 'desc');
    if (filter.env) q = q.where('env', '=', filter.env);
    if (filter.state) q = q.where('state', '=', filter.state);
    if (filter.action) q = q.where('action', '=', filter.action);
    if (filter.subject) q = q.where('subject', '=', filter.subject);
    if (filter.limit) q = q.limit(filter.limit);
    return (await q.execute()).map(toApproval);
  }

  async updateApproval(id: number, patch: { state?: ApprovalState; approvers?: ApprovalRecord['approvers']; requesterIdentity?: Identity }): Promise<void> {
    await this.db
      .updateTable('approvals')
      .set({ ...(patch.state ? { state: patch.state } : {}), ...(patch.approvers ? { approvers: JSON.stringify(patch.approvers) } : {}), ...(patch.requesterIdentity ? { requester_identity: JSON.stringify(patch.requesterIdentity) } : {}) })
      .where('id', '=', id)
      .execute();
  }

  async claimApproval(id: number): Promise<boolean> {
    return this.moveApproval(id, 'approved', 'used');
  }

  async returnApproval(id: number): Promise<boolean> {
    return this.moveApproval(id, 'used', 'approved');
  }

  /** A compare-and-set on the state: of two runs racing for one approval, exactly one sees true. */
  private async moveApproval(id: number, from: ApprovalState, to: ApprovalState): Promise<boolean> {
    const result = await this.db.updateTable('approvals').set({ state: to }).where('id', '=', id).where('state', '=', from).executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async addAttestation(a: Omit<AttestationRecord, 'id'>): Promise<AttestationRecord> {
    const row = await this.db.insertInto('attestations').values(a).returningAll().executeTakeFirstOrThrow();
    return { ...row, id: Number(row.id) };
  }

  async listAttestations(version: string): Promise<AttestationRecord[]> {
    return (await this.db.selectFrom('attestations').selectAll().where('version', '=', version).orderBy('id').execute()).map((r) => ({ ...r, id: Number(r.id) }));
  }

  async createBackup(b: Omit<BackupRecord, 'id'>): Promise<BackupRecord> {
    const row = await this.db
      .insertInto('backups')
      .values({ env: b.env, deployment_id: b.deploymentId, file: b.file, size_bytes: b.sizeBytes, sha256: b.sha256, created_at: b.createdAt, verified_entries: b.verifiedEntries, detail: JSON.stringify(b.detail) })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toBackup(row);
  }

  async getBackup(id: number): Promise<BackupRecord | undefined> {
    const row = await this.db.selectFrom('backups').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toBackup(row) : undefined;
  }

  async listBackups(filter: { env?: string; deploymentId?: number; limit?: number }): Promise<BackupRecord[]> {
    let q = this.db.selectFrom('backups').selectAll().orderBy('id', 'desc');
    if (filter.env) q = q.where('env', '=', filter.env);
    if (filter.deploymentId !== undefined) q = q.where('deployment_id', '=', filter.deploymentId);
    if (filter.limit) q = q.limit(filter.limit);
    return (await q.execute()).map(toBackup);
  }

  async createIncident<D extends object>(env: string, at: string, data: D): Promise<IncidentRecord<D>> {
    const row = await this.db.insertInto('incidents').values({ env, opened_at: at, state: 'open', data: encodeDocument(data) }).returningAll().executeTakeFirstOrThrow();
    return toIncident(row) as IncidentRecord<D>;
  }

  async updateIncident(id: number, patch: { state?: 'open' | 'closed'; data?: object }): Promise<void> {
    await this.db
      .updateTable('incidents')
      .set({ ...(patch.state ? { state: patch.state } : {}), ...(patch.data ? { data: encodeDocument(patch.data) } : {}) })
      .where('id', '=', id)
      .execute();
  }

  async getIncident(id: number): Promise<IncidentRecord | undefined> {
    const row = await this.db.selectFrom('incidents').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toIncident(row) : undefined;
  }

  async listIncidents(filter: { env?: string; limit?: number }): Promise<IncidentRecord[]> {
    let q = this.db.selectFrom('incidents').selectAll().orderBy('id', 'desc');
    if (filter.env) q = q.where('env', '=', filter.env);
    if (filter.limit) q = q.limit(filter.limit);
    return (await q.execute()).map(toIncident);
  }

  // ---- readings (reading-table.ts) and API tokens (token-table.ts) ---------------------
  appendReadings(watchId: number, at: string, rows: NewReading[]): Promise<void> { return appendReadings(this.db, watchId, at, rows); }
  listReadings(watchId: number, filter?: { afterId?: number; limit?: number }): Promise<ReadingRecord[]> { return listReadings(this.db, watchId, filter); }
  readingsAfter(afterId: number, limit: number): Promise<ReadingRecord[]> { return readingsAfter(this.db, afterId, limit); }
  latestReadingId(): Promise<number> { return latestReadingId(this.db); }
  pruneReadings(before: string): Promise<number> { return pruneReadings(this.db, before); }
  createApiToken(t: NewApiToken): Promise<ApiTokenRecord> { return createApiToken(this.db, t); }
  getApiToken(id: number): Promise<ApiTokenRecord | undefined> { return getApiToken(this.db, id); }
  listApiTokens(): Promise<ApiTokenRecord[]> { return listApiTokens(this.db); }
  revokeApiToken(id: number, at: string): Promise<boolean> { return revokeApiToken(this.db, id, at); }

  // ---- CI test outcomes --------------------------------------------------------------

  async recordTestOutcomes(rows: TestOutcomeRecord[]): Promise<void> {
    // Chunked: SQLite limits the number of bound parameters per statement.
    for (let i = 0; i < rows.length; i += 200) {
      const chunk = rows.slice(i, i + 200).map((r) => ({ commit: r.commit, test: r.test, outcome: r.outcome, source: r.source, recorded_at: r.recordedAt }));
      await this.db.insertInto('ci_test_outcomes').values(chunk).execute();
    }
  }

  async countTestOutcomes(filter: { tests?: string[] } = {}): Promise<{ test: string; commit: string; passed: number; failed: number; lastSeen: string }[]> {
    if (filter.tests && filter.tests.length === 0) return [];
    let q = this.db
      .selectFrom('ci_test_outcomes')
      .select((eb) => [
        'test',
        'commit',
        eb.fn.sum<number>(eb.case().when('outcome', '=', 'passed').then(1).else(0).end()).as('passed'),
        eb.fn.sum<number>(eb.case().when('outcome', '=', 'failed').then(1).else(0).end()).as('failed'),
        eb.fn.max('recorded_at').as('last_seen'),
      ])
      .groupBy(['test', 'commit']);
    if (filter.tests) q = q.where('test', 'in', filter.tests);
    const rows = await q.execute();
    return rows.map((r) => ({ test: r.test, commit: r.commit, passed: Number(r.passed), failed: Number(r.failed), lastSeen: String(r.last_seen) }));
  }
}
