// `shipgate config check --live` reads each service's health URL once and judges it against its contract.
// Found in an operator's trial: a `version.field` the service does not report (revision vs rev) and a status
// word it never says (healthy: [true] vs "yes") passed `--live` (exit 0), while every deploy would fail
// verification. Real HTTP servers on loopback, the built CLI.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shipgate } from './harness/cli.js';
import { freePort } from '../src/demo/free-port.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'shipgate-live-health-'));
const servers: http.Server[] = [];

async function serve(body: unknown): Promise<number> {
  const server = http.createServer((_req, res) => void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body)));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return (server.address() as AddressInfo).port;
}

beforeAll(async () => {
  const pricer = await serve({ ok: 'yes', rev: 'v2.0.0', svc: 'pricer' });
  const router = await serve({ ok: 'yes', rev: 'v2.0.0', svc: 'router' });
  const closed = await freePort();
  const contract = (field: string, words: string) => `{ url: 'http://127.0.0.1:{port}/ready', status: { field: ok, healthy: ${words} }, version: { field: ${field} } }`;
  writeFileSync(path.join(root, 'shipgate.yml'), `version: 1
project: desk
services:
  pricer: { command: [./pricer], health: ${contract('rev', '["yes"]')} }
  router: { command: [./router], health: ${contract('rev', '["yes"]')} }
environments:
  right:
    services: { pricer: { port: ${pricer} }, router: { port: ${router} } }
  wrong:
    services:
      pricer: { port: ${pricer}, health: ${contract('revision', '["yes"]')} }
      router: { port: ${router}, health: ${contract('rev', '[true]')} }
  down:
    services: { pricer: { port: ${closed} }, router: { port: ${router} } }
`);
});

afterAll(async () => {
  for (const s of servers) await new Promise((r) => s.close(r));
  rmSync(root, { recursive: true, force: true });
});

const run = (args: string[]) => shipgate(args, { cwd: root });

describe('config check --live: health contracts', () => {
  it('the right fields and words are ✓ with what the service reports', async () => {
    const res = await run(['config', 'check', '--live', 'right', '--json']);
    expect(res.code, res.stdout + res.stderr).toBe(0);
    expect(res.json().health).toEqual([
      expect.objectContaining({ name: 'pricer', type: 'health', status: 'ok', note: 'HTTP 200, ok yes, rev v2.0.0' }),
      expect.objectContaining({ name: 'router', type: 'health', status: 'ok', note: 'HTTP 200, ok yes, rev v2.0.0' }),
    ]);
  });

  it('a version field the answer lacks exits 2 naming its fields and the setting; a status word never said is a warning naming the list', async () => {
    const res = await run(['config', 'check', '--live', 'wrong', '--json']);
    expect(res.code, res.stdout + res.stderr).toBe(2);
    const [pricer, router] = res.json().health;
    expect(pricer).toMatchObject({ name: 'pricer', status: 'problem', problem: 'the answer has no "revision" (its fields: ok, rev, svc): every verification would fail; fix services.pricer.health.version.field' });
    expect(router).toMatchObject({ name: 'router', status: 'warning', warnings: ['ok is "yes", not among healthy [true]: unhealthy now, or add "yes" to services.router.health.status.healthy'] });
    const human = await run(['config', 'check', '--live', 'wrong']);
    expect(human.code).toBe(2);
    expect(human.stdout).toContain('✗ pricer: GET http://127.0.0.1:');
    expect(human.stdout).toContain("a health contract names a field the service's answer does not have: every deploy of wrong would fail verification");
  });

  it('a service that does not answer is a warning (its contract cannot be checked), not ✓', async () => {
    const res = await run(['config', 'check', '--live', 'down', '--json']);
    expect(res.code, res.stdout + res.stderr).toBe(0);
    expect(res.json().health[0]).toMatchObject({ name: 'pricer', status: 'warning', warnings: [expect.stringMatching(/: not running or not healthy now, so its contract cannot be checked$/)] });
  });
});
