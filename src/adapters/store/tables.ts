import type { Generated } from 'kysely';

/** Column types as stored; timestamps are ISO-8601 text so both dialects agree. */
export interface Database {
  audit: {
    seq: number;
    at: string;
    actor: string;
    action: string;
    env: string | null;
    version: string | null;
    reason: string | null;
    outcome: string;
    detail: string;
    prev_hash: string;
    hash: string;
    mac: string | null;
  };
  locks: {
    env: string;
    owner: string;
    actor: string;
    reason: string;
    token: string;
    acquired_at: string;
    lease_until: string;
    host: string;
    pid: number;
    generation: number | null;
  };
  deployments: {
    id: Generated<number>;
    env: string;
    kind: string;
    version: string;
    from_version: string | null;
    state: string;
    actor: string;
    reason: string | null;
    cause_id: number | null;
    error: string | null;
    host: string;
    pid: number;
    started_at: string;
    updated_at: string;
    finished_at: string | null;
    meta: string;
  };
  watches: {
    id: Generated<number>;
    kind: string;
    env: string;
    version: string;
    deployment_id: number;
    state: string;
    started_at: string;
    updated_at: string;
    finished_at: string | null;
    data: string;
  };
  incidents: {
    id: Generated<number>;
    env: string;
    opened_at: string;
    state: string;
    data: string;
  };
  kv: {
    key: string;
    value: string;
    updated_at: string;
  };
  approvals: {
    id: Generated<number>;
    env: string;
    action: string;
    subject: string;
    requester: string;
    reason: string;
    required: number;
    state: string;
    created_at: string;
    expires_at: string;
    approvers: string;
    requester_identity: string | null;
  };
  attestations: {
    id: Generated<number>;
    version: string;
    item: string;
    by: string;
    at: string;
    note: string | null;
  };
  backups: {
    id: Generated<number>;
    env: string;
    deployment_id: number | null;
    file: string;
    size_bytes: number;
    sha256: string;
    created_at: string;
    verified_entries: number;
    detail: string;
  };
  steps: {
    id: Generated<number>;
    deployment_id: number;
    name: string;
    seq: number;
    state: string;
    started_at: string;
    finished_at: string | null;
    detail: string;
  };
  releases: {
    env: string;
    version: string;
    commit: string;
    verdict: string | null;
    reason: string | null;
    updated_at: string;
  };
  ci_test_outcomes: {
    id: Generated<number>;
    commit: string;
    test: string;
    outcome: string;
    source: string;
    recorded_at: string;
  };
  api_tokens: {
    id: Generated<number>;
    name: string;
    role: string;
    salt: string;
    hash: string;
    created_at: string;
    created_by: string;
    revoked_at: string | null;
  };
  /** Browser sessions: hashes of the cookie's id and of the CSRF token, never either in clear. */
  api_sessions: {
    id_hash: string;
    token_id: number;
    csrf_hash: string;
    created_at: string;
    expires_at: string;
    ended_at: string | null;
  };
  readings: {
    id: Generated<number>;
    watch_id: number;
    check_name: string;
    at: string;
    verdict: string;
    value: number | null;
    evidence: string;
    reason: string;
  };
  /** One row ('controller'): the leader's lease and the fencing generation, bumped on every takeover. */
  controller_leader: {
    name: string;
    generation: number;
    owner: string;
    host: string;
    pid: number;
    acquired_at: string;
    lease_until: string;
  };
  /** One row per running controller (leader or standby), refreshed as its heartbeat. */
  controllers: {
    id: string;
    host: string;
    pid: number;
    role: string;
    generation: number | null;
    started_at: string;
    seen_at: string;
    lease_ms: number;
  };
}
