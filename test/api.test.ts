// The control room API over real HTTP on a free loopback port, with a real store in a temp dir.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createContext, type AppContext } from '../src/app/context.js';
import { createToken } from '../src/app/tokens.js';
import { readingRows } from '../src/app/analysis/series.js';
import { configSchema } from '../src/config/schema.js';
import { ROLES, type Role } from '../src/core/roles.js';
import { OPERATIONS } from '../src/server/openapi.js';
import { seriesResponse } from '../src/server/schemas.js';
import { startApiServer, type RunningApi } from '../src/server/start.js';
import { apiCall, type ApiAnswer, type ApiCredentials } from './harness/api-call.js';

let dir: string;
let ctx: AppContext;
let api: RunningApi;
const tokens = {} as Record<Role | 'approver2', string>;

async function contextIn(workDir: string): Promise<AppContext> {
  const config = configSchema.parse({ version: 1, project: 'api-test', services: { web: { command: ['true'] } }, environments: { production: { trading: { keyPrefix: 'prod:' } }, staging: { trading: { keyPrefix: 'stg:' } } } });
  return createContext({ file: path.join(workDir, 'shipgate.yml'), dir: workDir, config }, { env: { ...process.env, SHIPGATE_ACTOR: 'operator', SHIPGATE_DATABASE_URL: '' } });
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'shipgate-api-'));
  ctx = await contextIn(dir);
  for (const role of ROLES) tokens[role] = (await createToken(ctx, { name: `${role}-user`, role })).token;
  tokens.approver2 = (await createToken(ctx, { name: 'bob', role: 'approver' })).token;
  api = await startApiServer(ctx, { address: { host: '127.0.0.1', port: 0 }, version: 'test', loginAttemptsPerMinute: 1000, eventPollMs: 50 });
});

afterAll(async () => {
  await api?.close();
  await ctx?.store.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

type Call = ApiCredentials;

/** The answer, with a body that is not JSON (the /metrics text) kept as text in `json`. */
async function call(method: string, url: string, c: Call = {}): Promise<ApiAnswer> {
  const answer = await apiCall(api.url, method, url, c);
  return { ...answer, json: answer.json ?? answer.text };
}

async function login(token: string, base = api): Promise<{ cookie: string; csrf: string; setCookie: string }> {
  const res = await fetch(`${base.url}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }) });
  expect(res.status).toBe(200);
  const setCookie = res.headers.get('set-cookie')!;
  return { cookie: setCookie.split(';')[0]!, csrf: ((await res.json()) as { csrfToken: string }).csrfToken, setCookie };
}

/** A body each mutating endpoint accepts as well-formed (what it then does is not the point here). */
const BODIES: Record<string, unknown> = {
  '/api/approvals': { env: 'staging', for: 'killswitch-off', reason: 'role test' },
  '/api/approvals/{id}/approve': undefined,
  '/api/breaker/trip': { env: 'staging', reason: 'role test' },
  '/api/breaker/reset': { env: 'staging' },
  '/api/killswitch/on': { env: 'staging', reason: 'role test', timeoutMs: 1000 },
  '/api/killswitch/off': { env: 'staging' },
  // An environment this config lacks: past the role check each answers 400, and nothing runs.
  '/api/deploy': { env: 'nowhere', version: 'v1.0.0' },
  '/api/promote': { env: 'nowhere' },
  '/api/rollback': { env: 'nowhere', reason: 'role test' },
  '/api/stop': { env: 'nowhere', reason: 'role test' },
  '/api/locks/acquire': { env: 'nowhere', reason: 'role test' },
  '/api/locks/release': { env: 'nowhere' },
  '/api/health/restart': { env: 'nowhere' },
  '/api/backups': { env: 'nowhere' },
  '/api/restore': { env: 'nowhere', backupId: 1, reason: 'role test' },
  '/api/preflight': { version: 'v1.0.0', env: 'nowhere' },
  '/api/announce': { version: 'v1.0.0', env: 'nowhere', message: 'role test' },
  '/api/ci/rerun': { run: '999' },
  '/api/tokens/{id}/revoke': { reason: 'role test' },
};
const mutating = OPERATIONS.filter((op) => op.method === 'post' && op.role);
const below = (role: Role) => ROLES[ROLES.indexOf(role) - 1]!;

describe('every mutating endpoint', () => {
  it('is one the roles table names', () => {
    expect(mutating.map((op) => op.path).sort()).toEqual(Object.keys(BODIES).sort());
  });

  it.each(mutating.map((op) => [op.path, op.role!] as const))('%s refuses no token (401), a lower role (403, audited), a session without CSRF (403), and lets the role through', async (route, role) => {
    const url = route.replace('{id}', '999');
    const body = BODIES[route];
    expect((await call('POST', url, { body })).status).toBe(401);
    expect((await call('POST', url, { body, token: 'sgt_1_' + 'A'.repeat(43) })).status).toBe(401);

    const lower = await call('POST', url, { body, token: tokens[below(role)] });
    expect(lower.status).toBe(403);
    expect(lower.json.error.message).toContain(`needs ${role}`);
    const [forbidden] = await ctx.store.listAudit({ action: 'api.forbidden', limit: 1 });
    expect(forbidden).toMatchObject({ actor: `${below(role)}-user`, detail: { needed: role, identity: { method: 'api-token', principal: `${below(role)}-user` } } });

    const session = await login(tokens[role]);
    const noCsrf = await call('POST', url, { body, cookie: session.cookie });
    expect(noCsrf.status).toBe(403);
    expect(noCsrf.json.error.message).toMatch(/X-CSRF-Token/);
    expect((await call('POST', url, { body, cookie: session.cookie, csrf: 'x'.repeat(session.csrf.length) })).status).toBe(403);
    // With the CSRF token the session's own role decides: a lower one is still 403.
    const lowerSession = await login(tokens[below(role)]);
    expect((await call('POST', url, { body, cookie: lowerSession.cookie, csrf: lowerSession.csrf })).status).toBe(403);

    for (const attempt of [await call('POST', url, { body, token: tokens[role] }), await call('POST', url, { body, cookie: session.cookie, csrf: session.csrf })]) {
      expect([401, 403], JSON.stringify(attempt.json)).not.toContain(attempt.status);
    }
  });
});

describe('browser sessions', () => {
  it('log in with an HttpOnly, SameSite=Strict cookie; reads need no CSRF token; revoking the token ends the session', async () => {
    const made = await createToken(ctx, { name: 'carol', role: 'viewer' });
    const s = await login(made.token);
    expect(s.setCookie).toMatch(/HttpOnly/i);
    expect(s.setCookie).toMatch(/SameSite=Strict/i);
    expect(s.setCookie).toMatch(/Path=\//);
    expect((await call('GET', '/api/me', { cookie: s.cookie })).json).toEqual({ name: 'carol', role: 'viewer', tokenId: made.view.id, via: 'session' });
    const { revokeToken } = await import('../src/app/tokens.js');
    await revokeToken(ctx, made.view.id, 'test');
    expect((await call('GET', '/api/me', { cookie: s.cookie })).status).toBe(401);
    expect((await call('POST', '/api/login', { body: { token: made.token } })).status).toBe(401);
  });

  it('rate-limits login per client: the sixth attempt in a minute is 429, even with a good token', async () => {
    const limited = await startApiServer(ctx, { address: { host: '127.0.0.1', port: 0 }, version: 'test', loginAttemptsPerMinute: 5 });
    try {
      const attempt = (token: string) => fetch(`${limited.url}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }) });
      for (let i = 0; i < 4; i++) expect((await attempt('sgt_1_' + 'B'.repeat(43))).status).toBe(401);
      expect((await attempt(tokens.viewer)).status).toBe(200);
      const sixth = await attempt(tokens.viewer);
      expect(sixth.status).toBe(429);
      expect(Number(sixth.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(((await sixth.json()) as { error: { message: string } }).error.message).toMatch(/too many login attempts/);
    } finally {
      await limited.close();
    }
  });
});

describe('tokens at rest', () => {
  it('are never in the store in clear: no secret appears in the SQLite file', async () => {
    await ctx.store.appendAudit({ at: new Date().toISOString(), actor: 'test', action: 'flush', outcome: 'ok' });
    const bytes = ['state.db', 'state.db-wal'].map((f) => { try { return readFileSync(path.join(dir, '.shipgate', f)).toString('latin1'); } catch { return ''; } }).join('');
    expect(bytes.includes('viewer-user')).toBe(true);
    for (const token of Object.values(tokens)) {
      const secret = token.replace(/^sgt_\d+_/, '');
      expect(secret).toHaveLength(43);
      expect(bytes.includes(secret), `the secret of ${token.slice(0, 8)}… is in the store`).toBe(false);
    }
  });
});

describe('two people for a breaker reset', () => {
  it('records the token owners: the requester cannot approve their own request; another approver can, and the reset goes through', async () => {
    const alice = tokens.approver;
    const bob = tokens.approver2;
    expect((await call('POST', '/api/breaker/trip', { token: tokens.deployer, body: { env: 'production', reason: 'drawdown 6%' } })).json).toMatchObject({ ok: true, breaker: 'TRIPPED' });
    const safety = async () => (await call('GET', '/api/safety?env=production', { token: tokens.viewer })).json.safety;
    expect(await safety()).toMatchObject({ breaker: 'TRIPPED', tripReason: 'drawdown 6%', halted: true });

    const asked = await call('POST', '/api/breaker/reset', { token: alice, body: { env: 'production', reason: 'drawdown back to 1%' } });
    expect(asked.status, JSON.stringify(asked.json)).toBe(409);
    const approval = asked.json.error.data.approval;
    // An API caller is told how to approve through the API, the CLI only as the alternative.
    expect(asked.json.error.hint).toContain(`\`POST /api/approvals/${approval.id}/approve\` with an approver's token`);
    expect(approval).toMatchObject({ state: 'pending', requester: 'approver-user', requesterIdentity: { method: 'api-token', principal: 'approver-user' } });

    const own = await call('POST', `/api/approvals/${approval.id}/approve`, { token: alice });
    expect(own.status).toBe(409);
    expect(own.json.error.message).toMatch(/approver-user requested #\d+ and cannot approve it/);
    // Logging in does not make the same person someone else.
    const session = await login(alice);
    expect((await call('POST', `/api/approvals/${approval.id}/approve`, { cookie: session.cookie, csrf: session.csrf })).status).toBe(409);

    const granted = await call('POST', `/api/approvals/${approval.id}/approve`, { token: bob });
    expect(granted.status).toBe(200);
    expect(granted.json.approval).toMatchObject({ state: 'approved', approvers: [{ by: 'bob', identity: { method: 'api-token', principal: 'bob' } }] });
    expect((await call('GET', '/api/approvals?env=production', { token: tokens.viewer })).json.approvals[0]).toMatchObject({ id: approval.id, state: 'approved' });

    const reset = await call('POST', '/api/breaker/reset', { token: alice, body: { env: 'production', reason: 'drawdown back to 1%' } });
    expect(reset.status).toBe(200);
    expect(reset.json).toMatchObject({ ok: true, approvalId: approval.id, status: { breaker: 'OPEN', halted: false } });
    // After the reset the old trip reason is not presented as current: the breaker is OPEN, with when it tripped and was reset.
    const after = await safety();
    expect(after).toMatchObject({ breaker: 'OPEN', tripReason: null, halted: false, trippedAt: expect.any(String), lastReset: expect.any(String) });
    expect(reset.json.status.tripReason).toBeNull();

    const events = await ctx.store.listAudit({ env: 'production' });
    expect(events.find((e) => e.action === 'approval.grant')).toMatchObject({ actor: 'bob', detail: { identity: { method: 'api-token', principal: 'bob' } } });
    expect(events.filter((e) => e.action === 'breaker.reset').at(-1)).toMatchObject({ actor: 'approver-user', outcome: 'OPEN', detail: { identity: { method: 'api-token', principal: 'approver-user' } } });
    expect(events.find((e) => e.action === 'breaker.trip')).toMatchObject({ actor: 'deployer-user', detail: { identity: { method: 'api-token' } } });
  });
});

describe('reading endpoints', () => {
  it('answer a viewer with deployments and steps, audit filters, the window, and a soak\'s readings as time series', async () => {
    const d = await ctx.store.createDeployment({ env: 'staging', kind: 'deploy', version: 'v1', fromVersion: null, actor: 'op', reason: null, causeId: null, host: 'h', pid: 1, startedAt: new Date().toISOString() }, new Date().toISOString());
    const step = await ctx.store.startStep(d.id, 'start', 1, new Date().toISOString());
    await ctx.store.finishStep(step.id, 'succeeded', new Date().toISOString());
    const deps = await call('GET', '/api/deployments?env=staging', { token: tokens.viewer });
    expect(deps.json.deployments[0]).toMatchObject({ id: d.id, steps: [{ name: 'start', state: 'succeeded' }] });

    const audit = await call('GET', '/api/audit?action=breaker.trip&limit=5', { token: tokens.viewer });
    expect(audit.json.events.length).toBeGreaterThan(0);
    expect(audit.json.events.every((e: { action: string }) => e.action === 'breaker.trip')).toBe(true);
    expect((await call('GET', '/api/audit?limit=zero', { token: tokens.viewer })).json).toMatchObject({ ok: false, error: { where: 'limit' } });
    expect((await call('GET', '/api/window?env=production&at=2026-11-24T10:00:00-05:00', { token: tokens.viewer })).json).toMatchObject({ open: false, rule: 'session' });
    expect((await call('GET', '/api/safety?env=nowhere', { token: tokens.viewer })).status).toBe(400);

    const soak = await ctx.store.createWatch('soak', 'staging', 'v1', d.id, new Date().toISOString(), { checks: {}, latest: [] });
    await ctx.store.appendReadings(soak.id, '2030-01-01T00:00:00.000Z', readingRows([
      { name: 'errors', type: 'error-rate', verdict: 'pass', reason: 'ok', evidence: { value: 0.01, threshold: 0.05, baseline: 0.008, llr: 0, wald: -2.5, lower: -4.6, upper: 20.7 } },
      { name: 'p95', type: 'latency', verdict: 'inconclusive', reason: 'no data: too few requests' },
    ]));
    await ctx.store.appendReadings(soak.id, '2030-01-01T00:00:01.000Z', readingRows([{ name: 'errors', type: 'error-rate', verdict: 'fail', reason: 'over', evidence: { value: 0.09, threshold: 0.05, llr: 21 } }]));
    const series = await call('GET', `/api/watches/${soak.id}/series`, { token: tokens.viewer });
    expect(seriesResponse.safeParse(series.json).success).toBe(true);
    const errors = series.json.checks.find((c: { name: string }) => c.name === 'errors');
    expect(errors.points).toEqual([
      { at: '2030-01-01T00:00:00.000Z', verdict: 'pass', value: 0.01, threshold: 0.05, baseline: 0.008, statistic: 0, wald: -2.5, lower: -4.6, upper: 20.7, reason: 'ok' },
      { at: '2030-01-01T00:00:01.000Z', verdict: 'fail', value: 0.09, threshold: 0.05, baseline: null, statistic: 21, wald: null, lower: null, upper: null, reason: 'over' },
    ]);
    expect(series.json.checks.find((c: { name: string }) => c.name === 'p95').points[0]).toMatchObject({ verdict: 'inconclusive', value: null });
  });
});

describe('CI endpoints', () => {
  it('list flaky tests from the store, and say what to configure for a GitHub triage', async () => {
    const at = new Date().toISOString();
    await ctx.store.recordTestOutcomes([
      { commit: 'abc', test: 'tests/test_fills.py::test_partial', outcome: 'passed', source: 'run 1', recordedAt: at },
      { commit: 'abc', test: 'tests/test_fills.py::test_partial', outcome: 'failed', source: 'run 2', recordedAt: at },
      { commit: 'abc', test: 'tests/test_tags.py::test_export', outcome: 'passed', source: 'run 1', recordedAt: at },
    ]);
    const flaky = await call('GET', '/api/ci/flaky', { token: tokens.viewer });
    expect(flaky.json).toEqual({ flaky: [{ test: 'tests/test_fills.py::test_partial', passed: 1, failed: 1, commits: ['abc'], lastSeen: at }] });
    expect((await call('GET', '/api/ci/triage', { token: tokens.viewer })).json).toMatchObject({ ok: false, error: { where: 'ref' } });
    const triage = await call('GET', '/api/ci/triage?ref=1234', { token: tokens.viewer });
    expect(triage.status).toBe(400);
    expect(triage.json.error).toMatchObject({ message: 'no GitHub repository configured', where: 'shipgate.yml: preflight.github' });
  });
});

describe('server-sent events', () => {
  it('deliver every new audit event to a viewer, with its sequence number as the event id, and every new reading', async () => {
    const res = await fetch(`${api.url}/api/events`, { headers: { authorization: `Bearer ${tokens.viewer}` } });
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    const until = async (pattern: RegExp) => {
      while (!pattern.test(text)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`stream ended before ${pattern}: ${text}`);
        text += decoder.decode(value, { stream: true });
      }
    };
    await until(/event: ready/);
    await call('POST', '/api/breaker/trip', { token: tokens.deployer, body: { env: 'staging', reason: 'sse test' } });
    await until(/"reason":"sse test"[\s\S]*\n\n/);
    const event = text.split('\n\n').find((e) => e.includes('"reason":"sse test"'))!;
    const seq = JSON.parse(/data: (.*)/.exec(event)![1]!).seq as number;
    expect(event).toContain('event: audit');
    expect(event).toContain(`id: ${seq}`);
    expect(JSON.parse(/data: (.*)/.exec(event)![1]!)).toMatchObject({ action: 'breaker.trip', actor: 'deployer-user' });

    // A reading stored by the controller arrives too, as event: reading.
    const d = await ctx.store.createDeployment({ env: 'staging', kind: 'deploy', version: 'v9', fromVersion: null, actor: 'op', reason: null, causeId: null, host: 'h', pid: 1, startedAt: new Date().toISOString() }, new Date().toISOString());
    const w = await ctx.store.createWatch('monitor', 'staging', 'v9', d.id, new Date().toISOString(), {});
    await ctx.store.appendReadings(w.id, new Date().toISOString(), [{ check: 'sse-errors', verdict: 'pass', value: 0.004, evidence: { threshold: 0.05 }, reason: 'fine' }]);
    await until(/event: reading\ndata: [^\n]*"sse-errors"[^\n]*\n\n/);
    const reading = text.split('\n\n').find((e) => e.includes('"sse-errors"'))!;
    expect(JSON.parse(/data: (.*)/.exec(reading)![1]!)).toMatchObject({ watchId: w.id, check: 'sse-errors', verdict: 'pass', value: 0.004 });
    await reader.cancel();
    expect((await fetch(`${api.url}/api/events`)).status).toBe(401);
  });
});

describe('/metrics and the OpenAPI document', () => {
  it('exposes deployments and rollbacks by environment and outcome, evaluations by verdict, loop duration and blind monitors', async () => {
    const at = new Date().toISOString();
    const rb = await ctx.store.createDeployment({ env: 'production', kind: 'rollback', version: 'v0', fromVersion: 'v1', actor: 'op', reason: 'bad', causeId: null, host: 'h', pid: 1, startedAt: at }, at);
    await ctx.store.finishDeployment(rb.id, 'succeeded', at);
    const watch = { id: 1, kind: 'monitor', env: 'production', version: 'v1', deploymentId: rb.id, state: 'running', startedAt: at, updatedAt: at, finishedAt: null, data: { latest: [{ verdict: 'pass' }, { verdict: 'fail' }] } } as const;
    const live = '2030-01-01T00:00:00.000Z';
    const triggered = await ctx.store.createWatch('monitor', 'production', 'v1', rb.id, live, { liveAt: live, trigger: { check: 'error-rate', reason: 'over', at: '2030-01-01T00:00:42.500Z' }, blind: { since: live, reason: 'scrape failed' }, latest: [] });
    api.metrics.observeTick({ evaluated: 1, finished: [], running: [watch as never], timing: { dueAt: Date.now(), startLagMs: 0, durationMs: 120, evaluationLagMs: [30] } });
    const text = (await call('GET', '/metrics')).json as string;
    expect(text).toContain('shipgate_deployments_total{env="production",kind="rollback",outcome="succeeded"} 1');
    expect(text).toContain('shipgate_rollbacks_total{env="production",outcome="succeeded"} 1');
    expect(text).toContain('shipgate_gate_evaluations_total{env="production",kind="monitor",verdict="fail"} 1');
    expect(text).toMatch(/shipgate_controller_loop_duration_seconds_count 1\b/);
    expect(text).toContain('shipgate_blind_monitors{env="production"} 1');
    expect(text).toContain('shipgate_detection_latency_seconds{env="production"} 42.5');
    expect(triggered.id).toBeGreaterThan(0);
  });

  it('lists every route the server answers, with request schemas generated from zod', async () => {
    const doc = (await call('GET', '/api/openapi.json')).json;
    expect(doc.openapi).toBe('3.0.3');
    const routes = api.app.routes.filter((r) => r.method !== 'ALL').map((r) => `${r.method.toLowerCase()} ${r.path.replace(/:(\w+)/g, '{$1}')}`);
    const documented = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m} ${p}`));
    expect(new Set(documented)).toEqual(new Set(routes));
    const trip = doc.paths['/api/breaker/trip'].post;
    expect(trip['x-shipgate-role']).toBe('deployer');
    expect(trip.requestBody.content['application/json'].schema).toMatchObject({ type: 'object', required: expect.arrayContaining(['env', 'reason']) });
    expect(doc.paths['/api/killswitch/off'].post['x-shipgate-role']).toBe('admin');
    // Options that raise the role are in the document too, with the body's schema.
    const deploy = doc.paths['/api/deploy'].post;
    expect(deploy['x-shipgate-role']).toBe('deployer');
    expect(deploy['x-shipgate-override-roles']).toEqual({ allowBad: 'approver', allowTripped: 'approver' });
    expect(deploy.requestBody.content['application/json'].schema.properties).toMatchObject({ allowBad: { type: 'boolean' }, reason: { type: 'string' }, changeTypes: { type: 'array' } });
    expect(deploy.responses[403].description).toContain('allowBad approver');
    expect(doc.paths['/api/restore'].post['x-shipgate-role']).toBe('admin');
    expect(doc.paths['/api/logs'].get['x-shipgate-role']).toBe('deployer');
  });
});
