// `shipgate status` names the controllers that went silent (killed without stopping cleanly):
// which process on which host, its role and when it was last seen, in text and JSON.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shipgate } from './harness/cli.js';
import { scaled } from './harness/pace.js';
import { startServeHttp, type ServeHttp } from './harness/serve-http.js';

let dir: string;
let serve: ServeHttp | undefined;
const env = { SHIPGATE_ACTOR: 'tester', SHIPGATE_DATABASE_URL: '' };

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'shipgate-status-controllers-'));
  writeFileSync(path.join(dir, 'shipgate.yml'), 'version: 1\nproject: silent\nservices:\n  web: { command: [node, web.mjs], port: 18099 }\nenvironments:\n  production: {}\ncontroller:\n  lease: 1s\n');
});
afterAll(async () => {
  await serve?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function status(): Promise<any> {
  const res = await shipgate(['status', '--json'], { cwd: dir, env });
  expect(res.code, res.stderr).toBe(0);
  return res.json().controller;
}

/** Polls until `done`; the limit only turns a hang into a readable failure. */
async function until(what: string, done: (c: any) => boolean): Promise<any> {
  const deadline = Date.now() + scaled(120_000);
  for (;;) {
    const c = await status();
    if (done(c)) return c;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}; last: ${JSON.stringify(c)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('status with a silent controller', () => {
  it('names it (id = actor@host:pid, role, last seen) in JSON and in text', async () => {
    serve = await startServeHttp(dir, env);
    const pid = serve.child.pid!;
    await until('the controller to lead', (c) => c.leader?.pid === pid);
    serve.child.kill('SIGKILL');
    await serve.stop();
    serve = undefined;

    const c = await until('the killed controller to count as silent', (s) => s.silent === 1);
    expect(c.leader).toBeNull();
    expect(c.silentControllers).toEqual([{ id: `tester@${os.hostname()}:${pid}`, host: os.hostname(), pid, role: 'leader', seenAt: expect.any(String) }]);

    const text = await shipgate(['status'], { cwd: dir, env });
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain(`1 controller(s) silent for over three leases (gone without stopping cleanly): tester@${os.hostname()}:${pid} (leader, last seen ${c.silentControllers[0].seenAt})`);
  });
});
