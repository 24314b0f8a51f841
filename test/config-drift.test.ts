// A running controller judges with the configuration it loaded: when shipgate.yml changes under it,
// it says so (once per change) and records it, instead of silently mixing two configurations.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createContext, type AppContext } from '../src/app/context.js';
import { watchConfigDrift } from '../src/app/config-drift.js';
import { configSchema } from '../src/config/schema.js';
import { BIN, shipgate } from './harness/cli.js';

const YAML = 'version: 1\nproject: drift\nservices:\n  quotes: { command: ["true"] }\nenvironments:\n  production: {}\n';

let dir: string | undefined;
let ctx: AppContext | undefined;
afterEach(async () => {
  await ctx?.store.close();
  ctx = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

function workspace(): string {
  dir = mkdtempSync(path.join(os.tmpdir(), 'shipgate-drift-'));
  writeFileSync(path.join(dir, 'shipgate.yml'), YAML);
  return dir;
}

describe('config drift under a running controller', () => {
  it('reports a change once, a second change again, its return, and a file gone; each change is audited', async () => {
    const d = workspace();
    const file = path.join(d, 'shipgate.yml');
    ctx = await createContext({ file, dir: d, config: configSchema.parse({ version: 1, project: 'drift', services: { quotes: { command: ['true'] } }, environments: { production: {} } }) }, { env: { ...process.env, SHIPGATE_ACTOR: 'controller', SHIPGATE_DATABASE_URL: '' } });
    const drift = await watchConfigDrift(ctx);
    expect(await drift.check()).toBeUndefined();
    writeFileSync(file, YAML.replace('production: {}', 'production: { soak: { standard: 40s } }'));
    expect(await drift.check()).toMatch(/shipgate\.yml changed since this controller started: it still judges every soak and monitor with the configuration it loaded; restart each `shipgate serve`/);
    expect(await drift.check()).toBeUndefined();
    writeFileSync(file, `${YAML}# again\n`);
    expect(await drift.check()).toMatch(/changed since this controller started/);
    writeFileSync(file, YAML);
    expect(await drift.check()).toMatch(/is back to the configuration this controller runs with/);
    rmSync(file);
    expect(await drift.check()).toMatch(/shipgate\.yml cannot be read \(ENOENT\) since this controller started/);
    const events = await ctx.store.listAudit({ action: 'controller.config-changed' });
    expect(events.map((e) => e.outcome)).toEqual(['stale', 'stale', 'stale']);
  });

  it('`shipgate serve` prints the warning when its shipgate.yml is edited', async () => {
    const d = workspace();
    const child = spawn(process.execPath, [BIN, 'serve'], { cwd: d, env: { ...process.env, SHIPGATE_ACTOR: 'tester', NO_COLOR: '1', SHIPGATE_DATABASE_URL: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b) => (out += b));
    child.stderr.on('data', (b) => (out += b));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const printed = (pattern: RegExp) =>
      new Promise<void>((resolve, reject) => {
        const look = () => (pattern.test(out) ? resolve() : child.exitCode !== null ? reject(new Error(`serve exited:\n${out}`)) : setTimeout(look, 50));
        look();
      });
    try {
      await printed(/leading as generation \d+/);
      writeFileSync(path.join(d, 'shipgate.yml'), `${YAML}# tuned\n`);
      await printed(/warning: .*shipgate\.yml changed since this controller started/);
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
    const audit = await shipgate(['audit', '--json'], { cwd: d, env: { SHIPGATE_DATABASE_URL: '' } });
    expect((audit.json().events as { action: string }[]).map((e) => e.action)).toContain('controller.config-changed');
  });
});
