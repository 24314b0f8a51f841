import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAlive } from '../src/adapters/targets/process/pids.js';
import { createClient } from 'redis';
import { startRedis, type RedisServer } from './harness/redis.js';
import { stackWorkspace, type StackWorkspace } from './harness/stack.js';

describe('shipgate diagnose (process target)', () => {
  let ws: StackWorkspace;
  let squatter: net.Server | undefined;

  beforeAll(async () => {
    ws = await stackWorkspace(['staging'], ['v1.0.0'], {
      healthTimeout: '3s',
      // The orchestrator needs a secret passed through by name; the test leaves it unset.
      patch: (yaml) => yaml.replace(/(    command: \[[^\n]*orchestrator\/main\.mjs\])/, '$1\n    passEnv: [ORCHESTRATOR_API_TOKEN]'),
    });
    const res = await ws.run(['deploy', 'staging', '--version', 'v1.0.0']);
    expect(res.code, res.stderr).toBe(0);
  });
  afterAll(async () => {
    await new Promise((r) => (squatter ? squatter.close(() => r(undefined)) : r(undefined)));
    await ws?.cleanup();
  });

  it('finds a port held by another process, with its pid and the next command', async () => {
    const status = (await ws.run(['status', '--json'])).json().environments[0];
    const gateway = status.services.find((s: any) => s.service === 'execution_gateway');
    process.kill(gateway.pid, 'SIGKILL');
    while (isAlive(gateway.pid)) await new Promise((r) => setTimeout(r, 20));
    // Another test file running beside this one may be handed the freed port for a moment (free
    // ports are found by binding port 0): wait until the port is ours to hold.
    for (;;) {
      const server = net.createServer((socket) => socket.destroy());
      const bound = await new Promise<boolean>((r) => {
        server.once('error', () => r(false));
        server.listen(ws.ports.staging!.gateway, '127.0.0.1', () => r(true));
      });
      if (bound) {
        squatter = server;
        break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }

    const res = await ws.run(['diagnose', 'staging', '--json']);
    expect(res.code, res.stdout + res.stderr).toBe(1);
    const finding = res.json().findings.find((f: any) => f.id === 'port-in-use');
    expect(finding.title).toContain(`port ${ws.ports.staging!.gateway}`);
    expect(finding.title).toContain(`pid ${process.pid}`);
    expect(finding.next).toContain(`${process.pid}`);
  });

  it('names a variable a service needs that is not set', async () => {
    const findings = (await ws.run(['diagnose', 'staging', '--json'])).json().findings;
    const missing = findings.find((f: any) => f.id === 'missing-env');
    expect(missing.title).toBe('orchestrator needs ORCHESTRATOR_API_TOKEN, which is not set');
    expect(missing.next).toMatch(/^export ORCHESTRATOR_API_TOKEN=/);
    const withToken = (await ws.run(['diagnose', 'staging', '--json'], { ORCHESTRATOR_API_TOKEN: 'x' })).json().findings;
    expect(withToken.find((f: any) => f.id === 'missing-env')).toBeUndefined();
  });

  it('explains a breaker that tripped after a deploy, and reports disk and recent commits', async () => {
    await ws.run(['breaker', 'trip', '--env', 'staging', '--reason', 'stale market data: feed 45s old']);
    const findings = (await ws.run(['diagnose', 'staging', '--json'])).json().findings;
    const breaker = findings.find((f: any) => f.id === 'breaker-tripped');
    expect(breaker.title).toContain('TRIPPED (halted) after a deploy');
    expect(breaker.title).toContain('stale data');
    expect(breaker.next).toContain('shipgate breaker reset --env staging');
    expect(findings.find((f: any) => f.id === 'disk' || f.id === 'disk-low')).toBeDefined();
    expect(findings.find((f: any) => f.id === 'recent-commits').evidence[0]).toContain('v1.0.0');
  });
});

// Found in an operator's trial: with the platform's own breaker (desk:halt {state: GO|STOP}, reason in `why`),
// diagnose called any non-trading value "TRIPPED" (an unknown PAUSED too), showed the seed's cb:trip_reason, and
// said nothing of a kill switch that was on ("no problems found" while every deploy was refused).
describe('shipgate diagnose with the platform\'s own safety keys', () => {
  let ws: StackWorkspace;
  let redis: RedisServer;
  const set = async (pairs: [string, string][]) => {
    const client = createClient({ url: redis.url });
    await client.connect();
    try {
      for (const [k, v] of pairs) await client.set(k, v);
    } finally {
      await client.quit();
    }
  };

  beforeAll(async () => {
    redis = await startRedis();
    ws = await stackWorkspace(['staging'], ['v1.0.0'], {
      healthTimeout: '3s',
      patch: (yaml) => {
        const health = /    health: \{ timeout: \d+s, interval: 250ms \}/;
        if (!health.test(yaml)) throw new Error('the generated shipgate.yml changed; update the patch');
        return yaml.replace(health, (line) => `${line}
    trading:
      redisUrl: '${redis.url}'
      breaker: { key: 'desk:halt', field: state, trading: [GO], halted: [STOP], missing: halted, reasonField: why }
      killSwitch: { key: 'desk:kill', trading: [disarmed], halted: [armed], missing: halted }`);
      },
    });
    await set([['desk:halt', JSON.stringify({ state: 'GO' })], ['desk:kill', 'disarmed']]);
    const res = await ws.run(['deploy', 'staging', '--version', 'v1.0.0']);
    expect(res.code, res.stdout + res.stderr).toBe(0);
  });
  afterAll(async () => {
    await ws?.cleanup();
    await redis?.stop();
  });

  it('names the platform\'s words and reason field, calls an unknown word unknown, and reports a kill switch that is on', async () => {
    await set([['desk:halt', JSON.stringify({ state: 'PAUSED', why: 'ops paused the router' })], ['desk:kill', 'armed']]);
    const res = await ws.run(['diagnose', 'staging', '--json']);
    expect(res.code, res.stdout + res.stderr).toBe(1);
    const findings = res.json().findings;
    const breaker = findings.find((f: any) => f.id === 'breaker-tripped');
    expect(breaker.title).toBe('the circuit breaker of staging reads PAUSED (unknown): a value in neither word list, which fails closed (check trading.breaker)');
    expect(breaker.title).not.toContain('TRIPPED');
    expect(breaker.evidence).toEqual(expect.arrayContaining(['desk:halt state is "PAUSED", in neither trading [GO] nor halted [STOP]', 'desk:halt why: ops paused the router']));
    expect(JSON.stringify(breaker)).not.toContain('cb:trip_reason');
    const kill = findings.find((f: any) => f.id === 'killswitch-on');
    expect(kill).toMatchObject({ severity: 'error', title: 'the kill switch of staging reads armed (halted): deploys and promotions are refused', next: 'shipgate killswitch status --env staging' });

    await set([['desk:halt', JSON.stringify({ state: 'STOP', why: 'drawdown 6%' })], ['desk:kill', 'disarmed']]);
    const halted = (await ws.run(['diagnose', 'staging', '--json'])).json().findings;
    expect(halted.find((f: any) => f.id === 'killswitch-on')).toBeUndefined();
    expect(halted.find((f: any) => f.id === 'breaker-tripped').title).toBe('the circuit breaker of staging reads STOP (halted)');
  });
});
