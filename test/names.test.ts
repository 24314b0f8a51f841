// Names typed by users never reach Object.prototype: `constructor` and `__proto__` as an
// environment, a service or in shipgate.yml give a clear exit-2 error and leave nothing behind.
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { environmentSpec } from '../src/config/resolve.js';
import { configSchema } from '../src/config/schema.js';
import { shipgate } from './harness/cli.js';

let dir: string;
const run = (args: string[]) => shipgate(args, { cwd: dir });
const CONFIG = 'version: 1\nproject: ledger\nservices:\n  quote-feed:\n    command: ["true"]\nenvironments:\n  paper-desk: {}\n';

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'shipgate-names-'));
  writeFileSync(path.join(dir, 'shipgate.yml'), CONFIG);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('environment and service names from the command line', () => {
  it.each([
    [['deploy', 'constructor', '--version', 'v1'], /"constructor" is not a valid environment name: "constructor" is reserved/],
    [['deploy', '__proto__', '--version', 'v1'], /"__proto__" is not a valid environment name/],
    [['lock', 'acquire', 'constructor', '--reason', 'x'], /"constructor" is not a valid environment name/],
    [['lock', 'acquire', '__proto__', '--reason', 'x'], /"__proto__" is not a valid environment name/],
    [['rollback', 'constructor', '--reason', 'x'], /"constructor" is not a valid environment name/],
    [['status', '--env', 'constructor'], /"constructor" is not a valid environment name/],
    [['logs', 'paper-desk', 'constructor'], /unknown service "constructor"/],
    [['logs', 'paper-desk', '__proto__'], /unknown service "__proto__"/],
  ])('shipgate %j exits 2 naming the problem', async (args, message) => {
    const res = await run(args);
    expect(res.code, res.stderr).toBe(2);
    expect(res.stderr).toMatch(message);
    expect(res.stderr).not.toMatch(/TypeError|at .*\.js:\d+/);
  });

  it('left nothing behind: no lock, no deployment, no audit event', async () => {
    const locks = (await run(['lock', 'status', '--json'])).json().locks;
    expect(locks).toEqual([expect.objectContaining({ env: 'paper-desk', locked: false })]);
    expect((await run(['audit', '--json'])).json().events).toEqual([]);
    expect(readdirSync(path.join(dir, '.shipgate')).filter((f) => ['releases', 'run', 'logs'].includes(f))).toEqual([]);
  });

  it('runbook mode (no shipgate.yml) refuses them too, before building a config from the name', async () => {
    const bare = mkdtempSync(path.join(os.tmpdir(), 'shipgate-names-bare-'));
    try {
      for (const env of ['constructor', '__proto__']) {
        const res = await shipgate(['breaker', 'status', '--env', env, '--redis-url', 'redis://127.0.0.1:1'], { cwd: bare });
        expect(res.code, res.stderr).toBe(2);
        expect(res.stderr).toMatch(/is not a valid environment name/);
      }
    } finally {
      rmSync(bare, { recursive: true, force: true });
    }
  });
});

describe('names in shipgate.yml', () => {
  it('rejects constructor as an environment or service name and in per-environment overrides', async () => {
    for (const bad of [
      CONFIG.replace('paper-desk: {}', 'constructor: {}'),
      CONFIG.replace('quote-feed:', 'constructor:'),
      CONFIG.replace('paper-desk: {}', 'paper-desk:\n    services:\n      constructor: { port: 9000 }'),
    ]) {
      const file = path.join(dir, 'bad.yml');
      writeFileSync(file, bad);
      const res = await run(['--config', file, 'config', 'check']);
      expect(res.code, `${bad}\n${res.stdout}${res.stderr}`).toBe(2);
      expect(`${res.stdout}${res.stderr}`).toMatch(/constructor/);
    }
  });

  it('never returns a prototype property as an environment', () => {
    const config = configSchema.parse({ version: 1, services: { a: { command: ['true'] } }, environments: { staging: {} } });
    for (const name of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) expect(() => environmentSpec(config, name)).toThrow(/not a valid environment name|unknown environment/);
  });
});
