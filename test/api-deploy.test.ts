// Deploy, roll back, override a bad verdict and stop through the API, with the real sample stack and
// `shipgate serve --http` as a user runs it: the same use cases as the CLI, as the tokens' owners.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scaled } from './harness/pace.js';
import { startServeHttp, type ServeHttp } from './harness/serve-http.js';
import { stackWorkspace, type StackWorkspace } from './harness/stack.js';

async function healthVersion(port: number): Promise<string | undefined> {
  try {
    return ((await (await fetch(`http://127.0.0.1:${port}/health`)).json()) as { version?: string }).version;
  } catch {
    return undefined;
  }
}

describe('the release path through the API', { timeout: scaled(240_000) }, () => {
  let ws: StackWorkspace;
  let serve: ServeHttp;
  const tokens: Record<'deployer' | 'approver' | 'viewer', string> = { deployer: '', approver: '', viewer: '' };

  const call = async (method: string, url: string, token: string, body?: unknown): Promise<{ status: number; json: any }> => {
    const res = await fetch(`${serve.url}${url}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : null };
  };
  const audit = async (action: string) => (await call('GET', `/api/audit?env=staging&action=${action}`, tokens.viewer)).json.events as any[];

  beforeAll(async () => {
    const promoteFrom = (yaml: string) => {
      const from = '  production:\n    target: { type: process }';
      if (!yaml.includes(from)) throw new Error(`the generated shipgate.yml no longer contains ${JSON.stringify(from)}; update the test's patch`);
      return yaml.replace(from, '  production:\n    promoteFrom: staging\n    target: { type: process }');
    };
    ws = await stackWorkspace(['staging', 'production'], ['v1.0.0', 'v1.1.0'], { healthTimeout: '3s', patch: promoteFrom });
    for (const [name, role] of [['dora', 'deployer'], ['alice', 'approver'], ['vic', 'viewer']] as const) {
      const made = await ws.run(['token', 'create', '--name', name, '--role', role, '--json']);
      expect(made.code, made.stderr).toBe(0);
      tokens[role] = made.json().token;
    }
    serve = await startServeHttp(ws.dir, { SHIPGATE_DATABASE_URL: '' });
  });

  afterAll(async () => {
    await serve?.stop();
    await ws?.cleanup();
  });

  it('a deployer deploys two releases and rolls the second back; each is recorded as theirs', async () => {
    const ports = ws.ports.staging!;
    expect((await call('POST', '/api/deploy', tokens.viewer, { env: 'staging', version: 'v1.0.0' })).status).toBe(403);
    const missing = await call('POST', '/api/deploy', tokens.deployer, { env: 'staging' });
    expect(missing.status).toBe(400);
    expect(missing.json.error).toMatchObject({ message: 'version: a version is required (or resume: true to finish an interrupted deployment)', where: 'body.version' });

    // The checklist first: an attestation through the API is the token owner's word.
    const checklist = await call('POST', '/api/preflight', tokens.deployer, { version: 'v1.0.0', env: 'staging', attest: { item: 'stakeholders-notified', note: 'posted in #trading-ops' } });
    expect(checklist.status, JSON.stringify(checklist.json)).toBe(200);
    expect(checklist.json).toMatchObject({ version: 'v1.0.0', env: 'staging', commit: expect.stringMatching(/^[0-9a-f]{40}$/) });
    expect(checklist.json.items.find((i: any) => i.item === 'stakeholders-notified')).toMatchObject({ status: 'attested', evidence: expect.stringMatching(/^attested by dora at \S+: posted in #trading-ops/) });
    expect((await call('GET', '/api/audit?action=preflight.attest', tokens.viewer)).json.events.at(-1)).toMatchObject({ actor: 'dora', detail: { item: 'stakeholders-notified', by: 'dora' } });

    const first = await call('POST', '/api/deploy', tokens.deployer, { env: 'staging', version: 'v1.0.0' });
    expect(first.status, JSON.stringify(first.json)).toBe(200);
    expect(first.json).toMatchObject({ ok: true, kind: 'deploy', env: 'staging', version: 'v1.0.0', fromVersion: null });
    // Nothing to resume: the same refusal as `deploy --resume`.
    const resume = await call('POST', '/api/deploy', tokens.deployer, { env: 'staging', resume: true });
    expect(resume.status).toBe(400);
    expect(resume.json.error.message).toMatch(/^nothing to resume in staging: the last deploy #\d+ of v1\.0\.0 succeeded$/);

    // Promotion lists every unmet requirement (409), recorded as the deployer's refusal; allowTripped needs approver.
    const promoted = await call('POST', '/api/promote', tokens.deployer, { env: 'production' });
    expect(promoted.status, JSON.stringify(promoted.json)).toBe(409);
    expect(promoted.json.error.message).toContain('promotion of v1.0.0 from staging to production refused: staging soak passed — v1.0.0 was never soaked in staging');
    expect(promoted.json.error.data.checks).toContainEqual({ requirement: 'staging soak passed', met: false, detail: 'v1.0.0 was never soaked in staging' });
    expect((await call('GET', '/api/audit?env=production&action=promote.refused', tokens.viewer)).json.events.at(-1)).toMatchObject({ actor: 'dora', version: 'v1.0.0', detail: { identity: { principal: 'dora' } } });
    expect((await call('POST', '/api/promote', tokens.deployer, { env: 'production', allowTripped: true, reason: 'the fix' })).status).toBe(403);

    const second = await call('POST', '/api/deploy', tokens.deployer, { env: 'staging', version: 'v1.1.0', changeTypes: ['hotfix'] });
    expect(second.json).toMatchObject({ ok: true, version: 'v1.1.0', fromVersion: 'v1.0.0' });
    expect(await healthVersion(ports.gateway)).toBe('v1.1.0');

    const noReason = await call('POST', '/api/rollback', tokens.deployer, { env: 'staging' });
    expect(noReason.status).toBe(400);
    expect(noReason.json.error.where).toBe('body.reason');
    expect((await call('POST', '/api/rollback', tokens.deployer, { env: 'staging', reason: 'x', db: 'drop' })).json.error.where).toBe('body.db');
    const dataLoss = await call('POST', '/api/rollback', tokens.deployer, { env: 'staging', reason: 'x', acceptDataLoss: true });
    expect(dataLoss.status).toBe(403);
    expect(dataLoss.json.error.message).toBe("dora's token is deployer; POST /api/rollback with acceptDataLoss needs approver or above");
    expect(await healthVersion(ports.gateway)).toBe('v1.1.0');
    const back = await call('POST', '/api/rollback', tokens.deployer, { env: 'staging', reason: 'fills not booked after v1.1.0' });
    expect(back.status, JSON.stringify(back.json)).toBe(200);
    expect(back.json).toMatchObject({ ok: true, kind: 'rollback', version: 'v1.0.0', fromVersion: 'v1.1.0', incidentId: expect.any(Number) });
    expect(await healthVersion(ports.gateway)).toBe('v1.0.0');

    const deployments = (await call('GET', '/api/deployments?env=staging', tokens.viewer)).json.deployments;
    expect(deployments.slice(0, 3).map((d: any) => [d.kind, d.version, d.actor, d.state])).toEqual([
      ['rollback', 'v1.0.0', 'dora', 'succeeded'],
      ['deploy', 'v1.1.0', 'dora', 'succeeded'],
      ['deploy', 'v1.0.0', 'dora', 'succeeded'],
    ]);
    expect(deployments[1].meta.changeTypes).toEqual(['hotfix']);
    expect((await audit('rollback.start'))[0]).toMatchObject({ actor: 'dora', reason: 'fills not booked after v1.1.0', detail: { identity: { method: 'api-token', principal: 'dora' } } });
  });

  it('a release marked bad is refused (409); allowBad needs a reason (400) and an approver (403, audited); an approver deploys it, audited as deploy.allow-bad with their identity', async () => {
    const ports = ws.ports.staging!;
    const refused = await call('POST', '/api/deploy', tokens.deployer, { env: 'staging', version: 'v1.1.0' });
    expect(refused.status).toBe(409);
    expect(refused.json.error.message).toMatch(/^v1\.1\.0 is marked bad in staging since \S+: rolled back: fills not booked after v1\.1\.0; a bad release is not deployed there again$/);
    expect(refused.json.error.hint).toContain('`POST /api/deploy` with {"env": "staging", "version": "v1.1.0", "allowBad": true, "reason": "..."} and an approver\'s token');
    expect(refused.json.error.data.release).toMatchObject({ env: 'staging', version: 'v1.1.0', verdict: 'bad' });

    const noReason = await call('POST', '/api/deploy', tokens.approver, { env: 'staging', version: 'v1.1.0', allowBad: true });
    expect(noReason.status).toBe(400);
    expect(noReason.json.error).toMatchObject({ message: 'reason: allowBad needs a reason (it goes into the audit log)', where: 'body.reason' });
    const blank = await call('POST', '/api/deploy', tokens.approver, { env: 'staging', version: 'v1.1.0', allowBad: true, reason: '   ' });
    expect(blank.status).toBe(400);

    const lower = await call('POST', '/api/deploy', tokens.deployer, { env: 'staging', version: 'v1.1.0', allowBad: true, reason: 'it was the broker' });
    expect(lower.status).toBe(403);
    expect(lower.json.error.message).toBe("dora's token is deployer; POST /api/deploy with allowBad needs approver or above");
    expect((await call('GET', '/api/audit?action=api.forbidden', tokens.viewer)).json.events.at(-1)).toMatchObject({ actor: 'dora', detail: { needed: 'approver', option: 'allowBad' } });
    expect(await healthVersion(ports.gateway)).toBe('v1.0.0');
    expect(await audit('deploy.allow-bad')).toEqual([]);

    const forced = await call('POST', '/api/deploy', tokens.approver, { env: 'staging', version: 'v1.1.0', allowBad: true, reason: 'the fills were the broker, not v1.1.0' });
    expect(forced.status, JSON.stringify(forced.json)).toBe(200);
    expect(forced.json).toMatchObject({ ok: true, kind: 'deploy', version: 'v1.1.0', fromVersion: 'v1.0.0' });
    expect(await healthVersion(ports.gateway)).toBe('v1.1.0');
    const [allowed] = await audit('deploy.allow-bad');
    expect(allowed).toMatchObject({
      actor: 'alice', outcome: 'allowed', version: 'v1.1.0', reason: 'the fills were the broker, not v1.1.0',
      detail: { markedBad: 'rolled back: fills not booked after v1.1.0', identity: { method: 'api-token', principal: 'alice' } },
    });
    expect((await audit('deploy.start')).at(-1)).toMatchObject({ actor: 'alice', version: 'v1.1.0' });
  });

  it('health, a restart of the unhealthy and the logs, then a stop, all through the API', async () => {
    const status = (await call('GET', '/api/environments/staging', tokens.viewer)).json;
    const gateway = status.services.find((s: any) => s.service === 'execution_gateway');
    process.kill(gateway.pid, 'SIGKILL');
    // Wait for the condition (the killed service stops answering), not for a duration.
    while ((await healthVersion(ws.ports.staging!.gateway)) !== undefined) await new Promise((r) => setTimeout(r, 50));
    const sick = await call('GET', '/api/health?env=staging', tokens.viewer);
    expect(sick.json.healthy).toBe(false);
    expect(sick.json.services.find((s: any) => s.service === 'execution_gateway').healthy).toBe(false);
    expect((await call('POST', '/api/health/restart', tokens.viewer, { env: 'staging' })).status).toBe(403);

    const healed = await call('POST', '/api/health/restart', tokens.deployer, { env: 'staging' });
    expect(healed.status, JSON.stringify(healed.json)).toBe(200);
    expect(healed.json).toMatchObject({ healthy: true, restarted: ['execution_gateway'] });
    expect(await healthVersion(ws.ports.staging!.gateway)).toBe('v1.1.0');
    expect((await audit('service.restart')).at(-1)).toMatchObject({ actor: 'dora', detail: { service: 'execution_gateway', identity: { principal: 'dora' } } });

    const logs = await call('GET', '/api/logs?env=staging&service=execution_gateway&tail=20', tokens.deployer);
    expect(logs.json.logs).toHaveLength(1);
    expect(logs.json.logs[0].service).toBe('execution_gateway');
    expect(logs.json.logs[0].lines.length).toBeGreaterThan(0);

    const stopped = await call('POST', '/api/stop', tokens.deployer, { env: 'staging', reason: 'end of the API story' });
    expect(stopped.status, JSON.stringify(stopped.json)).toBe(200);
    expect(stopped.json).toMatchObject({ ok: true, env: 'staging', stoppedVersion: 'v1.1.0' });
    expect(await healthVersion(ws.ports.staging!.gateway)).toBeUndefined();
    expect((await audit('environment.stop')).map((e) => [e.actor, e.outcome, e.reason])).toEqual([
      ['dora', 'started', 'end of the API story'],
      ['dora', 'succeeded', 'end of the API story'],
    ]);
  });

  it('a client that hangs up does not stop the deployment: it finishes in the serving process', async () => {
    const started = (await audit('deploy.start')).length;
    const hangUp = new AbortController();
    const request = fetch(`${serve.url}/api/deploy`, {
      method: 'POST', signal: hangUp.signal,
      headers: { authorization: `Bearer ${tokens.deployer}`, 'content-type': 'application/json' },
      body: JSON.stringify({ env: 'staging', version: 'v1.0.0', reason: 'started from a phone that lost signal' }),
    }).catch((err: Error) => err);
    // Hang up once the deployment has started (a condition, not a delay).
    while ((await audit('deploy.start')).length === started) await new Promise((r) => setTimeout(r, 50));
    hangUp.abort();
    expect(await request).toBeInstanceOf(Error);
    let latest: any;
    do {
      await new Promise((r) => setTimeout(r, 100));
      latest = (await call('GET', '/api/deployments?env=staging&limit=1', tokens.viewer)).json.deployments[0];
    } while (latest.state === 'running');
    expect(latest).toMatchObject({ kind: 'deploy', version: 'v1.0.0', state: 'succeeded', actor: 'dora', reason: 'started from a phone that lost signal' });
    expect(await healthVersion(ws.ports.staging!.gateway)).toBe('v1.0.0');
  });
});
