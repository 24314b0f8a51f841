// The API's operator endpoints beside deploy and rollback (locks, the controller, the audit log's
// proof, backups, the kill switch with the broker, diagnose, logs, the incident report), over real
// HTTP on a free loopback port with a real store in a temp dir: each answers what its CLI command
// answers, is role-checked and records the token's owner. Deploy/rollback: test/api-deploy.test.ts.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createContext, type AppContext } from '../src/app/context.js';
import { createToken } from '../src/app/tokens.js';
import { configSchema } from '../src/config/schema.js';
import { ROLES, type Role } from '../src/core/roles.js';
import { startApiServer, type RunningApi } from '../src/server/start.js';
import { FakeGitHub } from './fakes/github.js';
import { startWebhookReceiver, type WebhookReceiver } from './fakes/webhook-receiver.js';
import { shipgate } from './harness/cli.js';
import { apiCall, type ApiCredentials } from './harness/api-call.js';

let dir: string;
let ctx: AppContext;
let api: RunningApi;
const tokens = {} as Record<Role | 'deployer2', string>;
let CONFIG: Record<string, unknown>;
let gh: FakeGitHub;
let hook: WebhookReceiver;
const GH_TOKEN = 'ghp_apiOpsSecret123';

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'shipgate-api-ops-'));
  gh = await FakeGitHub.start({ repo: 'acme/trading', token: GH_TOKEN });
  hook = await startWebhookReceiver();
  CONFIG = {
    version: 1, project: 'api-ops', services: { web: { command: ['true'] } }, environments: { production: { trading: { keyPrefix: 'prod:' } }, staging: {} },
    notifications: [{ type: 'webhook', urlEnv: 'OPS_HOOK' }], preflight: { github: { repo: 'acme/trading', tokenEnv: 'GH_TOKEN', apiUrl: gh.url } },
  };
  ctx = await createContext({ file: path.join(dir, 'shipgate.yml'), dir, config: configSchema.parse(CONFIG) }, { env: { ...process.env, SHIPGATE_ACTOR: 'operator', SHIPGATE_DATABASE_URL: '', OPS_HOOK: hook.url('/hook'), GH_TOKEN } });
  for (const role of ROLES) tokens[role] = (await createToken(ctx, { name: `${role}-user`, role })).token;
  tokens.deployer2 = (await createToken(ctx, { name: 'dana', role: 'deployer' })).token;
  api = await startApiServer(ctx, { address: { host: '127.0.0.1', port: 0 }, version: 'test', loginAttemptsPerMinute: 1000, eventPollMs: 50 });
});

afterAll(async () => {
  await gh?.close();
  await hook?.close();
  await api?.close();
  await ctx?.store.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const call = (method: string, url: string, c: ApiCredentials = {}) => apiCall(api.url, method, url, c);

const lastAudit = async (action: string) => (await ctx.store.listAudit({ action, limit: 1 }))[0];

describe('environment locks', () => {
  it('a deployer holds production; another deployer cannot release it, nor break it (force needs approver, audited); an approver breaks it with a reason', async () => {
    const held = await call('POST', '/api/locks/acquire', { token: tokens.deployer, body: { env: 'production', reason: 'incident 42: investigating fills', lease: '2h' } });
    expect(held.status, held.text).toBe(200);
    expect(held.json.lock).toMatchObject({ env: 'production', actor: 'deployer-user', reason: 'incident 42: investigating fills' });
    expect(await lastAudit('lock.acquire')).toMatchObject({ actor: 'deployer-user', env: 'production', detail: { identity: { method: 'api-token', principal: 'deployer-user' } } });

    const status = await call('GET', '/api/locks', { token: tokens.viewer });
    expect(status.json.locks).toEqual(expect.arrayContaining([expect.objectContaining({ env: 'production', locked: true, stale: false, lock: expect.objectContaining({ actor: 'deployer-user' }) }), expect.objectContaining({ env: 'staging', locked: false, lock: null })]));
    // The lock blocks a deploy through the API too (409, naming the holder).
    const blocked = await call('POST', '/api/rollback', { token: tokens.deployer2, body: { env: 'production', reason: 'try while locked' } });
    expect(blocked.status, blocked.text).toBe(409);
    expect(blocked.json.error.message).toContain('production is locked by deployer-user (incident 42: investigating fills)');

    const notMine = await call('POST', '/api/locks/release', { token: tokens.deployer2, body: { env: 'production' } });
    expect(notMine.status).toBe(409);
    expect(notMine.json.error.message).toMatch(/only its holder may release it/);

    const forceLow = await call('POST', '/api/locks/release', { token: tokens.deployer2, body: { env: 'production', force: true, reason: 'holder went home' } });
    expect(forceLow.status).toBe(403);
    expect(forceLow.json.error.message).toBe("dana's token is deployer; POST /api/locks/release with force needs approver or above");
    expect(await lastAudit('api.forbidden')).toMatchObject({ actor: 'dana', detail: { needed: 'approver', option: 'force' } });

    const noReason = await call('POST', '/api/locks/release', { token: tokens.approver, body: { env: 'production', force: true } });
    expect(noReason.status).toBe(400);
    expect(noReason.json.error).toMatchObject({ message: 'reason: force needs a reason (it goes into the audit log)', where: 'body.reason' });

    const broken = await call('POST', '/api/locks/release', { token: tokens.approver, body: { env: 'production', force: true, reason: 'holder went home' } });
    expect(broken.status, broken.text).toBe(200);
    expect(broken.json).toMatchObject({ ok: true, released: true, holder: { actor: 'deployer-user' } });
    expect(await lastAudit('lock.break')).toMatchObject({ actor: 'approver-user', reason: 'holder went home', detail: { identity: { principal: 'approver-user' } } });
    expect((await call('GET', '/api/locks', { token: tokens.viewer })).json.locks.find((l: { env: string }) => l.env === 'production')).toMatchObject({ locked: false });
  });

  it('the holder releases their own hold from a browser session with the CSRF token (and not without it)', async () => {
    expect((await call('POST', '/api/locks/acquire', { token: tokens.deployer2, body: { env: 'staging', reason: 'load test' } })).status).toBe(200);
    const login = await fetch(`${api.url}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: tokens.deployer2 }) });
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    const { csrfToken } = (await login.json()) as { csrfToken: string };
    expect((await call('POST', '/api/locks/release', { cookie, body: { env: 'staging' } })).status).toBe(403);
    const released = await call('POST', '/api/locks/release', { cookie, csrf: csrfToken, body: { env: 'staging' } });
    expect(released.json).toMatchObject({ ok: true, released: true, holder: { actor: 'dana' } });
    expect(await lastAudit('lock.release')).toMatchObject({ actor: 'dana', env: 'staging' });
  });

  it('refuses a lease that is not a duration, naming the field', async () => {
    const bad = await call('POST', '/api/locks/acquire', { token: tokens.deployer, body: { env: 'staging', reason: 'x', lease: 'soon' } });
    expect(bad.status).toBe(400);
    expect(bad.json.error).toMatchObject({ message: 'lease: must be a duration such as 30m, 2h or 1d', where: 'body.lease' });
  });
});

describe('reading what an operator checks in an incident', () => {
  it('the controller, the audit log\'s proof, backups, the kill switch and the broker, diagnose', async () => {
    const controller = await call('GET', '/api/controller', { token: tokens.viewer });
    expect(controller.json).toMatchObject({ leader: null, standbys: [], silent: 0 });

    const verified = await call('GET', '/api/audit/verify', { token: tokens.viewer });
    expect(verified.json).toMatchObject({ ok: true });
    expect(verified.json.checked).toBeGreaterThan(3);

    expect((await call('GET', '/api/backups?env=production', { token: tokens.viewer })).json).toEqual({ backups: [] });
    expect((await call('GET', '/api/backups?env=nowhere', { token: tokens.viewer })).status).toBe(400);

    // No broker configured: said so (null), never "0 open orders".
    const ks = await call('GET', '/api/killswitch?env=production', { token: tokens.viewer });
    expect(ks.json).toMatchObject({ env: 'production', killswitch: false, broker: null, openOrders: null });

    const d = await call('GET', '/api/diagnose?env=staging', { token: tokens.viewer });
    expect(d.status, d.text).toBe(200);
    expect(d.json.env).toBe('staging');
    expect(d.json.findings.length).toBeGreaterThan(0);
    // The same findings the CLI prints for the same store and config.
    const cli = await shipgateJson(['diagnose', 'staging', '--json']);
    expect(d.json.findings.map((f: { id: string }) => f.id)).toEqual(cli.findings.map((f: { id: string }) => f.id));
    expect((await call('GET', '/api/diagnose', { token: tokens.viewer })).json.error).toMatchObject({ message: 'env is required', where: 'env' });
  });

  it('logs need deployer (shown as the services wrote them); health is checked once for a viewer', async () => {
    const denied = await call('GET', '/api/logs?env=staging', { token: tokens.viewer });
    expect(denied.status).toBe(403);
    expect(denied.json.error.message).toContain('needs deployer');
    expect((await call('GET', '/api/logs?env=staging', { token: tokens.deployer })).json).toEqual({ env: 'staging', logs: [] });
    expect((await call('GET', '/api/logs?env=staging&service=nope', { token: tokens.deployer })).json.error).toMatchObject({ message: 'unknown service "nope"', where: 'service' });

    const health = await call('GET', '/api/health?env=staging', { token: tokens.viewer });
    expect(health.status, health.text).toBe(200);
    expect(health.json).toMatchObject({ env: 'staging', restarted: [], services: [expect.objectContaining({ service: 'web' })] });
  });

  it('an incident\'s report as Markdown, with the timeline from the audit log', async () => {
    const incident = await ctx.store.createIncident('production', new Date().toISOString(), {
      title: 'error rate 9% after v2.0.0', version: 'v2.0.0', deploymentId: null, rollback: null,
      trigger: { check: 'error-rate', reason: 'error rate 9% > 5%', at: new Date().toISOString() },
    });
    const report = await call('GET', `/api/incidents/${incident.id}/report`, { token: tokens.viewer });
    expect(report.status).toBe(200);
    expect(report.type).toMatch(/^text\/markdown/);
    expect(report.text).toMatch(new RegExp(`^# Incident ${incident.id}: error rate 9% after v2\\.0\\.0\\n`));
    expect(report.text).toContain('Trigger `error-rate`');
    expect(report.text).toContain('## Timeline');
    expect((await call('GET', '/api/incidents/99999/report', { token: tokens.viewer })).status).toBe(400);
  });
});

describe('release preparation and people', () => {
  it('announces a release through the configured notifier as the token\'s owner', async () => {
    const sent = await call('POST', '/api/announce', { token: tokens.deployer, body: { version: 'v1.3.0', message: 'Deploying v1.3.0 to production at 6pm ET' } });
    expect(sent.status, sent.text).toBe(200);
    expect(sent.json).toEqual({ ok: true, version: 'v1.3.0', env: 'production' });
    await hook.waitForRequests(1);
    expect(hook.requests[0]!.json()).toMatchObject({ event: 'release.announced', env: 'production', version: 'v1.3.0', actor: 'deployer-user', reason: 'Deploying v1.3.0 to production at 6pm ET' });
    expect(await lastAudit('release.announce')).toMatchObject({ actor: 'deployer-user', version: 'v1.3.0', detail: { identity: { principal: 'deployer-user' } } });
    expect((await call('POST', '/api/announce', { token: tokens.deployer, body: { version: 'v1.3.0' } })).json.error.where).toBe('body.message');
    // The command calls the same function: the same event, from the local user.
    const cli = await shipgateJson(['announce', 'v1.3.1', '--message', 'from the host', '--json'], { OPS_HOOK: hook.url('/hook') });
    expect(cli).toEqual({ ok: true, version: 'v1.3.1', env: 'production' });
    await hook.waitForRequests(2);
    expect(hook.requests[1]!.json()).toMatchObject({ event: 'release.announced', version: 'v1.3.1', actor: 'tester', reason: 'from the host' });
  });

  it('re-runs a CI run\'s failed jobs through GitHub, recorded as the token\'s owner', async () => {
    gh.seed = {
      workflowRuns: [{ id: 7, name: 'CI', head_sha: 'a'.repeat(40), status: 'completed', conclusion: 'failure', run_attempt: 1 }],
      jobs: { 7: [{ id: 71, name: 'tests', status: 'completed', conclusion: 'failure', steps: [] }] },
    };
    const rerun = await call('POST', '/api/ci/rerun', { token: tokens.deployer, body: { run: '7' } });
    expect(rerun.status, rerun.text).toBe(200);
    expect(rerun.json).toMatchObject({ ok: true, run: { id: 7 } });
    expect(gh.reruns).toEqual([7]);
    expect(await lastAudit('ci.rerun')).toMatchObject({ actor: 'deployer-user' });
    expect((await call('POST', '/api/ci/rerun', { token: tokens.viewer, body: { run: '7' } })).status).toBe(403);
  });

  it('an admin lists the tokens (never a secret) and revokes a leaked one: it is refused from then on', async () => {
    const leaked = await createToken(ctx, { name: 'mallory', role: 'deployer' });
    expect((await call('GET', '/api/me', { token: leaked.token })).status).toBe(200);
    expect((await call('GET', '/api/tokens', { token: tokens.approver })).status).toBe(403);
    const list = await call('GET', '/api/tokens', { token: tokens.admin });
    expect(list.json.tokens.map((t: { name: string }) => t.name)).toEqual(expect.arrayContaining(['viewer-user', 'admin-user', 'dana', 'mallory']));
    for (const t of Object.values(tokens)) expect(list.text).not.toContain(t.replace(/^sgt_\d+_/, ''));

    expect((await call('POST', `/api/tokens/${leaked.view.id}/revoke`, { token: tokens.approver, body: { reason: 'pasted in chat' } })).status).toBe(403);
    const revoked = await call('POST', `/api/tokens/${leaked.view.id}/revoke`, { token: tokens.admin, body: { reason: 'pasted in chat' } });
    expect(revoked.status, revoked.text).toBe(200);
    expect(revoked.json.token).toMatchObject({ id: leaked.view.id, name: 'mallory', revokedAt: expect.any(String) });
    expect((await call('GET', '/api/me', { token: leaked.token })).status).toBe(401);
    expect(await lastAudit('token.revoke')).toMatchObject({ actor: 'admin-user', reason: 'pasted in chat', detail: { name: 'mallory', identity: { principal: 'admin-user' } } });
    expect((await call('POST', `/api/tokens/${leaked.view.id}/revoke`, { token: tokens.admin, body: {} })).json.error.message).toContain('already revoked');
  });

  it('roll back or fix forward: the runbook\'s rules from the query, as `shipgate decide`', async () => {
    const q = '/api/decide?affected=60%25&rootCauseKnown=true&fixEta=2h';
    const answer = await call('GET', q, { token: tokens.viewer });
    expect(answer.status, answer.text).toBe(200);
    const cli = await shipgate(['decide', '--affected', '60%', '--root-cause-known', '--fix-eta', '2h', '--json'], { cwd: dir });
    expect(answer.json).toEqual(cli.json());
    expect(answer.json.recommendation).toBe('rollback');
    const bad = await call('GET', '/api/decide?affected=60', { token: tokens.viewer });
    expect(bad.status).toBe(400);
    expect(bad.json.error).toMatchObject({ where: 'affected', hint: 'Did you mean affected 60%?' });
    expect((await call('GET', '/api/decide?rootCauseKnown=maybe', { token: tokens.viewer })).json.error.where).toBe('rootCauseKnown');
  });
});

/** The CLI on the same store (the API test's temp dir, with the same config written out). */
async function shipgateJson(args: string[], env: NodeJS.ProcessEnv = {}) {
  const { writeFileSync } = await import('node:fs');
  const { stringify } = await import('yaml');
  writeFileSync(path.join(dir, 'shipgate.yml'), stringify(CONFIG));
  const r = await shipgate(args, { cwd: dir, env: { SHIPGATE_DATABASE_URL: '', ...env } });
  expect([0, 1], r.stderr).toContain(r.code);
  return r.json();
}
