import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { portHolder } from '../src/adapters/host/ports.js';
import { processStartTicks, stopProcess } from '../src/adapters/targets/process/pids.js';
import { processLayout } from '../src/adapters/targets/process/launch.js';
import { ProcessTarget } from '../src/adapters/targets/process/driver.js';
import type { GitRepository } from '../src/adapters/vcs/git.js';
import { freePorts } from '../src/demo/free-port.js';
import { scaled } from './harness/pace.js';

const FIXTURE = path.join(path.dirname(new URL(import.meta.url).pathname), 'fixtures', 'pyshop');

async function until(what: string, ok: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + scaled(timeoutMs);
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Proof that what answers on a port is the process shipgate started, not an older one. */
describe('the listener on a service port belongs to the started process', () => {
  let dir: string;
  let ours: ChildProcess;
  let other: ChildProcess;
  let ourPort: number;
  let otherPort: number;
  let target: ProcessTarget;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'shipgate-listener-'));
    [ourPort, otherPort] = (await freePorts(2)) as [number, number];
    // "ours" is started through a shell, so the listener is its child, as with wrapper scripts.
    ours = spawn('sh', ['-c', `exec python3 ${path.join(FIXTURE, 'squat.py')} ${ourPort} & wait`], { stdio: 'ignore', detached: true });
    other = spawn('python3', [path.join(FIXTURE, 'squat.py'), String(otherPort)], { stdio: 'ignore' });
    await until('both to listen', () => portHolder(ourPort)?.pid !== undefined && portHolder(otherPort)?.pid === other.pid);
    const layout = processLayout(dir);
    const record = (pid: number, port: number) => ({ pid, startTicks: processStartTicks(pid), version: 'r1', port, logFile: path.join(dir, 'x.log'), startedAt: new Date().toISOString(), argv: ['x'], cwd: dir });
    mkdirSync(path.dirname(layout.stateFile('paper')), { recursive: true });
    writeFileSync(layout.stateFile('paper'), JSON.stringify({ version: 'r1', services: { quotes: record(ours.pid!, ourPort), ledger: record(ours.pid!, otherPort) } }));
    target = new ProcessTarget(layout, {} as GitRepository);
  });
  afterAll(async () => {
    await stopProcess(ours.pid!, undefined, 2000);
    await stopProcess(other.pid!, undefined, 2000);
    rmSync(dir, { recursive: true, force: true });
  });

  it('a child of the started process holding the socket is the release', async () => {
    expect(portHolder(ourPort)!.pid).not.toBe(ours.pid);
    expect(await target.checkListener('paper', 'quotes', ourPort)).toMatchObject({ ok: true });
  });

  it('another process holding the port is named, and is not the release', async () => {
    const check = await target.checkListener('paper', 'ledger', otherPort);
    expect(check.ok).toBe(false);
    expect(check.reason).toMatch(new RegExp(`^port ${otherPort} is held by pid ${other.pid} \\(\\S*python3 .*squat\\.py ${otherPort}\\), not by pid ${ours.pid} that this deploy started$`));
  });
});
