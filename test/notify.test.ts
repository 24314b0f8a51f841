// Notifications against a local receiver: Slack and webhook formats, retries and backoff,
// Retry-After, no retry on 4xx, deadlines, the events filter, missing URL variables, and the
// fire-and-forget contract (notify never waits; flushNotifications does, bounded), with every
// outcome audited and no URL anywhere in the audit log.
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { parseRetryAfter, postJson, type NotifyEvent, type RetryDeps } from '../src/adapters/notify/notifier.js';
import { SlackNotifier, slackMessage } from '../src/adapters/notify/slack.js';
import { WebhookNotifier, webhookPayload } from '../src/adapters/notify/webhook.js';
import { GrafanaNotifier, annotationsEndpoint, grafanaAnnotation } from '../src/adapters/notify/grafana.js';
import { openStore } from '../src/adapters/store/open.js';
import type { Store } from '../src/adapters/store/store.js';
import { flushNotifications, matchesEvents, notify, pendingNotifications, type NotifyContext } from '../src/app/notify.js';
import type { NotifierSpec } from '../src/config/schema.js';
import { systemClock } from '../src/core/clock.js';
import { startWebhookReceiver, type WebhookReceiver } from './fakes/webhook-receiver.js';

const rollbackFinished: NotifyEvent = {
  event: 'rollback.finished',
  env: 'production',
  version: 'v1.2.2',
  actor: 'alice',
  reason: 'error rate 10.5%',
  at: '2025-03-04T15:00:00.000Z',
  detail: { fromVersion: 'v1.2.3', deploymentId: 7 },
};

/** Fast retries for tests; the waits are still real. */
const FAST = { baseDelayMs: 20, maxDelayMs: 100 };

/** Records the backoff waits asked for, and really waits. */
function recordingSleep(): RetryDeps & { waits: number[] } {
  const waits: number[] = [];
  return { waits, random: () => 0.5, sleep: (ms) => (waits.push(ms), new Promise((r) => setTimeout(r, ms))) };
}

/** A local port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

let receiver: WebhookReceiver;
let log: string[];

beforeEach(async () => {
  log = [];
  receiver = await startWebhookReceiver({ log: (e) => log.push(e) });
});

afterEach(async () => {
  await flushNotifications(5_000);
  await receiver.close();
});

describe('Slack incoming webhook', () => {
  it('posts { text, blocks } with a short human text', async () => {
    const slack = new SlackNotifier(receiver.url('/services/T000/B000/XXXX'));
    const result = await slack.send(rollbackFinished);
    expect(result).toEqual({ ok: true, attempts: 1, status: 200 });

    const [req] = receiver.requests;
    expect(req!.method).toBe('POST');
    expect(req!.path).toBe('/services/T000/B000/XXXX');
    expect(req!.headers['content-type']).toBe('application/json');
    expect(req!.headers['user-agent']).toBe('shipgate');
    const body = req!.json();
    expect(body.text).toBe(':rotating_light: production rolled back to v1.2.2: error rate 10.5% (shipgate)');
    expect(body.blocks).toEqual([
      { type: 'section', text: { type: 'mrkdwn', text: body.text } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: expect.stringContaining('*env* production') }] },
    ]);
    expect(Object.keys(body).sort()).toEqual(['blocks', 'text']);
  });

  it('has a line for every event, escapes Slack control characters and says when a rollback failed', () => {
    const events = ['deploy.started', 'deploy.succeeded', 'deploy.failed', 'soak.passed', 'soak.failed', 'promotion.refused', 'approval.requested', 'rollback.started', 'rollback.finished', 'incident.opened', 'killswitch.engaged'] as const;
    for (const event of events) {
      const { text } = slackMessage({ ...rollbackFinished, event }, 'trading');
      expect(text, event).toMatch(/^:[a-z_]+: .+ \(trading\)$/);
    }
    expect(slackMessage({ ...rollbackFinished, event: 'deploy.failed', reason: 'p95 <500ms & rising' }).text).toBe(':x: deploy of v1.2.2 to production failed: p95 &lt;500ms &amp; rising (shipgate)');
    expect(slackMessage({ ...rollbackFinished, detail: { outcome: 'failed' } }).text).toMatch(/^:sos: rollback of production to v1\.2\.2 FAILED/);
  });
});

describe('generic webhook', () => {
  it('posts the event itself as JSON with content-type and user-agent', async () => {
    const result = await new WebhookNotifier(receiver.url()).send(rollbackFinished);
    expect(result.ok).toBe(true);
    const [req] = receiver.requests;
    expect(req!.headers['content-type']).toBe('application/json');
    expect(req!.headers['user-agent']).toBe('shipgate');
    expect(req!.json()).toEqual(rollbackFinished);
  });

  it('leaves absent optional fields out', () => {
    const { version: _v, reason: _r, detail: _d, ...bare } = rollbackFinished;
    expect(webhookPayload(bare)).toEqual({ event: 'rollback.finished', env: 'production', actor: 'alice', at: rollbackFinished.at });
  });
});

describe('Grafana annotations (HTTP API: POST /api/annotations, bearer service-account token)', () => {
  it('posts { time, tags, text } with the token to <base>/api/annotations; a dashboard UID scopes it', async () => {
    const result = await new GrafanaNotifier(receiver.url('/grafana/'), { token: 'glsa_secret', dashboardUid: 'trading-overview', tags: ['desk:equities'] }).send(rollbackFinished);
    expect(result).toMatchObject({ ok: true, attempts: 1 });
    const request = receiver.requests[0]!;
    expect(request.method).toBe('POST');
    expect(request.path).toBe('/grafana/api/annotations');
    expect(request.headers.authorization).toBe('Bearer glsa_secret');
    expect(request.headers['content-type']).toBe('application/json');
    expect(request.json()).toEqual({
      time: Date.parse('2025-03-04T15:00:00.000Z'),
      tags: ['shipgate', 'rollback.finished', 'env:production', 'version:v1.2.2', 'desk:equities'],
      text: 'shipgate: rollback.finished production v1.2.2 — reason: error rate 10.5% — by alice',
      dashboardUID: 'trading-overview',
    });
  });

  it('is organization-wide without a dashboard UID, and leaves an absent version untagged', () => {
    const annotation = grafanaAnnotation({ event: 'killswitch.engaged', env: 'production', actor: 'oncall', at: '2025-03-04T15:00:00.000Z' });
    expect(annotation).toEqual({ time: 1741100400000, tags: ['shipgate', 'killswitch.engaged', 'env:production'], text: 'shipgate: killswitch.engaged production — by oncall' });
    expect(annotationsEndpoint('https://grafana.example.com/grafana//')).toBe('https://grafana.example.com/grafana/api/annotations');
  });
});

describe('retries', () => {
  it('retries 5xx with growing backoff: 500, 500, then 200 is delivered after 3 attempts', async () => {
    receiver.script({ status: 500 }, { status: 500 });
    const deps = recordingSleep();
    const result = await new WebhookNotifier(receiver.url(), { policy: FAST, deps }).send(rollbackFinished);
    expect(result).toEqual({ ok: true, attempts: 3, status: 200 });
    expect(receiver.requests.map((r) => r.status)).toEqual([500, 500, 200]);
    // Equal jitter with random() = 0.5: 3/4 of base * 2^(n-1).
    expect(deps.waits).toEqual([15, 30]);
  });

  it('jitters each wait between half and all of the exponential backoff', async () => {
    receiver.script({ status: 503 }, { status: 503 }, { status: 503 });
    const low = recordingSleep();
    low.random = () => 0;
    await postJson(receiver.url(), {}, { policy: { ...FAST, baseDelayMs: 40, maxDelayMs: 1_000 }, deps: low });
    expect(low.waits).toEqual([20, 40, 80]);
  });

  it('honours Retry-After on 429', async () => {
    receiver.script({ status: 429, retryAfter: '1' });
    const deps = recordingSleep();
    const result = await new SlackNotifier(receiver.url(), { policy: FAST, deps }).send(rollbackFinished);
    expect(result).toEqual({ ok: true, attempts: 2, status: 200 });
    expect(deps.waits).toEqual([1000]);
    const [first, second] = receiver.requests;
    expect(second!.receivedAt - first!.answeredAt!).toBeGreaterThanOrEqual(950);
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    const now = Date.parse('2025-03-04T15:00:00Z');
    expect(parseRetryAfter('3', now)).toBe(3000);
    expect(parseRetryAfter('Tue, 04 Mar 2025 15:00:10 GMT', now)).toBe(10_000);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });

  it('gives up rather than wait for a Retry-After beyond the deadline', async () => {
    receiver.script({ status: 429, retryAfter: '120' });
    const result = await postJson(receiver.url(), {}, { policy: { ...FAST, deadlineMs: 2_000 } });
    expect(result).toMatchObject({ ok: false, attempts: 1, status: 429 });
    expect(result.error).toMatch(/deadline/);
    expect(receiver.requests).toHaveLength(1);
  });

  it('does not retry 400', async () => {
    receiver.script({ status: 400, body: 'invalid_payload' });
    const result = await new SlackNotifier(receiver.url(), { policy: FAST }).send(rollbackFinished);
    expect(result).toMatchObject({ ok: false, attempts: 1, status: 400 });
    await new Promise((r) => setTimeout(r, 100));
    expect(receiver.requests).toHaveLength(1);
  });

  it('gives up on an unreachable URL after the attempts allowed', async () => {
    const url = `http://127.0.0.1:${await closedPort()}/hook`;
    const result = await postJson(url, {}, { policy: FAST });
    expect(result).toMatchObject({ ok: false, attempts: 4 });
    expect(result.error).toMatch(/^network error \(ECONNREFUSED\); gave up after 4 attempts$/);
  });

  it('gives up on an unreachable URL within the total deadline', async () => {
    const url = `http://127.0.0.1:${await closedPort()}/hook`;
    const started = performance.now();
    const result = await postJson(url, {}, { policy: { attempts: 1_000, deadlineMs: 400, baseDelayMs: 20, maxDelayMs: 50 } });
    const elapsed = performance.now() - started;
    expect(result.ok).toBe(false);
    expect(result.attempts).toBeGreaterThan(1);
    expect(result.attempts).toBeLessThan(1_000);
    expect(elapsed).toBeLessThan(400 + 500);
  });

  it('cuts a request that does not answer at the deadline', async () => {
    receiver.script({ delayMs: 5_000 });
    const result = await postJson(receiver.url(), {}, { policy: { ...FAST, deadlineMs: 300 } });
    expect(result.ok).toBe(false);
    expect(result.error).toMatch(/^no answer within 300ms/);
    // Given up long before the receiver answered.
    expect(log).toEqual(['received 1']);
  });

  it('refuses a URL that is not http(s) without echoing it', async () => {
    const result = await postJson('ftp://secret-host/very-secret', {});
    expect(result).toEqual({ ok: false, attempts: 0, error: 'the URL is not a valid http(s) URL' });
  });
});

describe('notify()', () => {
  let tmp: string;
  let store: Store;
  let warnings: string[];
  let counter = 0;

  beforeAll(() => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'shipgate-notify-'));
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  beforeEach(async () => {
    warnings = [];
    store = await openStore({ sqliteFile: path.join(tmp, `state-${++counter}.db`) });
  });
  afterEach(async () => {
    await flushNotifications(5_000);
    await store.close();
  });

  function ctxWith(notifications: NotifierSpec[]): NotifyContext {
    return { config: { notifications, project: 'shipgate' }, store, clock: systemClock, actor: 'tester', progress: { warn: (m) => warnings.push(m) } };
  }

  const audit = async (prefix = 'notify.') => (await store.listAudit()).filter((e) => e.action.startsWith(prefix));

  it('returns before the receiver answers; flushNotifications waits for the answer', async () => {
    receiver.script({ delayMs: 5_000 });
    const ctx = ctxWith([{ type: 'slack', urlEnv: 'SLACK_URL' }]);

    const returned = notify(ctx, { event: 'rollback.started', env: 'production', version: 'v1.2.2', reason: 'error rate 10.5%' }, { env: { SLACK_URL: receiver.url() } });
    await returned;
    log.push('notify returned');
    expect(pendingNotifications()).toBe(1);

    // The rollback carries on while Slack is slow: its next step completes before the answer.
    await store.appendAudit({ at: new Date().toISOString(), actor: 'tester', action: 'rollback.start', outcome: 'started', env: 'production' });
    log.push('rollback step done');
    await receiver.waitForRequests(1);

    const flushed = await flushNotifications(15_000);
    log.push('flushed');
    expect(flushed).toEqual({ complete: true, abandoned: 0 });
    expect(pendingNotifications()).toBe(0);

    const answered = log.indexOf('answered 1 200');
    expect(answered).toBeGreaterThan(-1);
    expect(log.indexOf('notify returned')).toBeLessThan(answered);
    expect(log.indexOf('rollback step done')).toBeLessThan(answered);
    expect(answered).toBeLessThan(log.indexOf('flushed'));
    expect(await audit()).toEqual([expect.objectContaining({ action: 'notify.sent', outcome: 'sent', env: 'production', version: 'v1.2.2', detail: expect.objectContaining({ notifier: 'slack', attempts: 1, event: 'rollback.started' }) })]);
  });

  it('fills actor and time, and reads the URL from process.env by default', async () => {
    vi.stubEnv('SHIPGATE_TEST_HOOK', receiver.url());
    try {
      notify(ctxWith([{ type: 'webhook', urlEnv: 'SHIPGATE_TEST_HOOK' }]), { event: 'deploy.started', env: 'staging', version: 'v2.0.0' });
      await flushNotifications(10_000);
    } finally {
      vi.unstubAllEnvs();
    }
    const body = receiver.requests[0]!.json();
    expect(body).toMatchObject({ event: 'deploy.started', env: 'staging', version: 'v2.0.0', actor: 'tester' });
    expect(Number.isNaN(Date.parse(body.at))).toBe(false);
  });

  it('sends only to notifiers whose events filter matches (absent = all)', async () => {
    const ctx = ctxWith([
      { type: 'webhook', urlEnv: 'ALL_HOOK' },
      { type: 'webhook', urlEnv: 'ROLLBACKS_HOOK', events: ['rollback.*', 'incident.opened'] },
      { type: 'webhook', urlEnv: 'DEPLOYS_HOOK', events: ['deploy.failed'] },
    ]);
    const env = { ALL_HOOK: receiver.url('/all'), ROLLBACKS_HOOK: receiver.url('/rollbacks'), DEPLOYS_HOOK: receiver.url('/deploys') };
    notify(ctx, { event: 'rollback.finished', env: 'production', version: 'v1.2.2' }, { env });
    notify(ctx, { event: 'soak.passed', env: 'staging', version: 'v1.2.3' }, { env });
    await flushNotifications(10_000);
    const got = receiver.requests.map((r) => `${r.path} ${r.json().event}`).sort();
    expect(got).toEqual(['/all rollback.finished', '/all soak.passed', '/rollbacks rollback.finished']);

    expect(matchesEvents(undefined, 'deploy.started')).toBe(true);
    expect(matchesEvents([], 'deploy.started')).toBe(false);
    expect(matchesEvents(['deploy.*'], 'deploy.failed')).toBe(true);
    expect(matchesEvents(['deploy.*'], 'deployx.failed')).toBe(false);
    expect(matchesEvents(['deploy.failed'], 'deploy.failed')).toBe(true);
  });

  it('skips a notifier whose URL variable is missing, with a warning recorded, and still sends the others', async () => {
    const ctx = ctxWith([
      { type: 'slack', urlEnv: 'MISSING_SLACK_URL' },
      { type: 'webhook', urlEnv: 'HOOK' },
    ]);
    expect(() => notify(ctx, { event: 'incident.opened', env: 'production', reason: 'breaker open' }, { env: { HOOK: receiver.url() } })).not.toThrow();
    await flushNotifications(10_000);
    expect(receiver.requests).toHaveLength(1);
    expect(warnings).toEqual(['slack notification #1 skipped: MISSING_SLACK_URL is not set']);
    const events = await audit();
    expect(events.map((e) => e.action).sort()).toEqual(['notify.sent', 'notify.skipped']);
    expect(events.find((e) => e.action === 'notify.skipped')).toMatchObject({ outcome: 'skipped', reason: 'MISSING_SLACK_URL is not set', detail: { notifier: 'slack', urlEnv: 'MISSING_SLACK_URL' } });
  });

  it('audits notify.sent and notify.failed with notifier type and attempts, never the URL', async () => {
    const secret = 'T0SECRET/B0SECRET/xoxSECRETTOKEN';
    receiver.script({ status: 500 }, { status: 400 });
    const deadPort = await closedPort();
    const ctx = ctxWith([
      { type: 'slack', urlEnv: 'SLACK_URL' },
      { type: 'webhook', urlEnv: 'DEAD_HOOK' },
    ]);
    const env = { SLACK_URL: receiver.url(`/services/${secret}`), DEAD_HOOK: `http://127.0.0.1:${deadPort}/${secret}` };
    // First event: Slack gets 500 then 400 (failed, 2 attempts); the dead hook fails 4 times.
    notify(ctx, { event: 'deploy.failed', env: 'production', version: 'v1.2.3', reason: 'health' }, { env, policy: FAST });
    await flushNotifications(10_000);
    // Second event: Slack is fine now.
    notify(ctx, { event: 'rollback.finished', env: 'production', version: 'v1.2.2', reason: 'health' }, { env, policy: FAST });
    await flushNotifications(10_000);

    const events = await audit();
    expect(events).toHaveLength(4);
    expect(events).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ action: 'notify.failed', outcome: 'failed', reason: 'HTTP 400: rejected, not retried', detail: expect.objectContaining({ notifier: 'slack', attempts: 2, status: 400, event: 'deploy.failed' }) }),
        expect.objectContaining({ action: 'notify.failed', outcome: 'failed', reason: expect.stringMatching(/^network error \(ECONNREFUSED\)/), detail: expect.objectContaining({ notifier: 'webhook', attempts: 4, event: 'deploy.failed' }) }),
        expect.objectContaining({ action: 'notify.failed', detail: expect.objectContaining({ notifier: 'webhook', event: 'rollback.finished' }) }),
        expect.objectContaining({ action: 'notify.sent', outcome: 'sent', detail: expect.objectContaining({ notifier: 'slack', attempts: 1, status: 200, event: 'rollback.finished' }) }),
      ]),
    );
    const text = JSON.stringify(await store.listAudit()) + warnings.join('\n');
    expect(text).not.toContain('SECRET');
    expect(text).not.toContain('127.0.0.1');
    expect(text).not.toContain(String(deadPort));
    expect((await store.verifyAudit()).ok).toBe(true);
  });

  it('grafana: a missing token variable skips it by name; a refused token is audited as failed and never shown', async () => {
    const ctx = ctxWith([{ type: 'grafana', urlEnv: 'GRAFANA_URL', tokenEnv: 'GRAFANA_TOKEN' }]);
    notify(ctx, { event: 'deploy.started', env: 'staging', version: 'v2.0.0' }, { env: { GRAFANA_URL: receiver.url('/g') } });
    await flushNotifications(10_000);
    expect(receiver.requests).toHaveLength(0);
    expect(warnings).toEqual(['grafana notification #1 skipped: GRAFANA_TOKEN is not set']);

    const token = 'glsa_TOPSECRETTOKEN';
    receiver.script({ status: 401, body: `{"message":"invalid API key ${token}"}` });
    notify(ctx, { event: 'rollback.started', env: 'production', version: 'v1.2.2' }, { env: { GRAFANA_URL: receiver.url('/g'), GRAFANA_TOKEN: token }, policy: FAST });
    await flushNotifications(10_000);
    expect(receiver.requests).toHaveLength(1);
    expect(receiver.requests[0]!.headers.authorization).toBe(`Bearer ${token}`);
    const events = await audit();
    expect(events.map((e) => `${e.action} ${e.reason}`)).toEqual(['notify.skipped GRAFANA_TOKEN is not set', 'notify.failed HTTP 401: rejected, not retried']);
    expect(JSON.stringify(await store.listAudit()) + warnings.join('\n')).not.toContain('TOPSECRET');
  });

  it('bounds flushNotifications: a send still running at the timeout is abandoned and recorded', async () => {
    receiver.script({ delayMs: 5_000 });
    notify(ctxWith([{ type: 'webhook', urlEnv: 'HOOK' }]), { event: 'killswitch.engaged', env: 'production' }, { env: { HOOK: receiver.url() } });
    const started = performance.now();
    const flushed = await flushNotifications(200);
    expect(performance.now() - started).toBeLessThan(3_000);
    expect(flushed).toEqual({ complete: false, abandoned: 1 });
    expect(pendingNotifications()).toBe(0);
    expect(await audit()).toEqual([expect.objectContaining({ action: 'notify.failed', reason: expect.stringMatching(/^abandoned/) })]);
    expect(log).toEqual(['received 1']);
  });

  it('never throws, even when the store is gone or there is nothing to notify', async () => {
    expect(() => notify(ctxWith([]), { event: 'deploy.started', env: 'x' })).not.toThrow();
    const ctx = ctxWith([{ type: 'webhook', urlEnv: 'HOOK' }]);
    const closed = await openStore({ sqliteFile: path.join(tmp, 'closed.db') });
    await closed.close();
    expect(() => notify({ ...ctx, store: closed }, { event: 'deploy.started', env: 'x' }, { env: { HOOK: receiver.url() } })).not.toThrow();
    expect(await flushNotifications(10_000)).toEqual({ complete: true, abandoned: 0 });
    expect(receiver.requests).toHaveLength(1);
    expect(warnings.some((w) => w.startsWith('could not record notify.sent in the audit log'))).toBe(true);
  });
});
