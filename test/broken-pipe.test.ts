// A reader that goes away (`shipgate deploy … | head -1`) must never stop an operation half-way:
// write errors on stdout and stderr are ignored, the outcome is still recorded, no stack trace.
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN } from './harness/cli.js';
import { stackWorkspace, type StackWorkspace } from './harness/stack.js';

interface PipedRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/** Runs the CLI with stdout piped into `head -1`, a real pipe whose reader exits after one line. */
function intoHead(ws: StackWorkspace, args: string[]): Promise<PipedRun & { head: string }> {
  return new Promise((resolve, reject) => {
    const cli = spawn(process.execPath, [BIN, ...args], { cwd: ws.dir, env: { ...process.env, SHIPGATE_ACTOR: 'tester', NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    const head = spawn('head', ['-1'], { stdio: [cli.stdout, 'pipe', 'inherit'] });
    // Only head holds the read end now: when it exits, the pipe is closed.
    cli.stdout.destroy();
    let stderr = '';
    let firstLine = '';
    cli.stderr.on('data', (d) => (stderr += d));
    head.stdout.on('data', (d) => (firstLine += d));
    cli.on('error', reject);
    cli.on('close', (code, signal) => resolve({ code, signal, stderr, head: firstLine }));
  });
}

/** Runs the CLI with stdout (and optionally stderr) a pipe whose read end is closed before it writes. */
function intoClosedPipe(ws: StackWorkspace, args: string[], closeStderr = false): Promise<PipedRun> {
  return new Promise((resolve, reject) => {
    const cli = spawn(process.execPath, [BIN, ...args], { cwd: ws.dir, env: { ...process.env, SHIPGATE_ACTOR: 'tester', NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    cli.stdout.destroy();
    if (closeStderr) cli.stderr.destroy();
    let stderr = '';
    if (!closeStderr) cli.stderr.on('data', (d) => (stderr += d));
    cli.on('error', reject);
    cli.on('close', (code, signal) => resolve({ code, signal, stderr }));
  });
}

describe('a closed stdout never stops an operation', () => {
  let ws: StackWorkspace;

  beforeAll(async () => {
    ws = await stackWorkspace(['staging'], ['v1.0.0', 'v1.1.0'], { healthTimeout: '20s' });
  });
  afterAll(() => ws?.cleanup());

  it('`deploy … | head -1` finishes the deploy, records it and exits 0', async () => {
    const first = await intoHead(ws, ['deploy', 'staging', '--version', 'v1.0.0']);
    expect(first.head).toMatch(/prepare v1\.0\.0/);
    expect(first.signal, first.stderr).toBeNull();
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).not.toMatch(/EPIPE|\n\s+at /);

    // A second deploy replaces running services: the one that used to stop half-way.
    const second = await intoHead(ws, ['deploy', 'staging', '--version', 'v1.1.0']);
    expect(second.code, second.stderr).toBe(0);
    const status = (await ws.run(['status', '--json'])).json().environments[0];
    expect(status.currentVersion).toBe('v1.1.0');
    expect(status.deployment).toMatchObject({ kind: 'deploy', version: 'v1.1.0', state: 'succeeded' });
    expect(status.lock).toBeNull();
    expect(status.services.map((s: any) => [s.process, s.healthy, s.version])).toEqual(Array(3).fill(['running', true, 'v1.1.0']));
    const events = (await ws.run(['audit', '--json'])).json().events.map((e: any) => `${e.action}:${e.outcome}`);
    expect(events.filter((e: string) => e.startsWith('deploy.finish'))).toEqual(['deploy.finish:succeeded', 'deploy.finish:succeeded']);
  });

  it.each([
    ['status', ['status']],
    ['status --json', ['status', '--json']],
    ['logs', ['logs', 'staging']],
    ['diagnose', ['diagnose', 'staging']],
    ['audit', ['audit']],
  ])('`%s` into a closed pipe prints no stack trace and keeps its exit code', async (_name, args) => {
    const normal = await ws.run(args);
    const piped = await intoClosedPipe(ws, args);
    expect(piped.signal).toBeNull();
    expect(piped.stderr).not.toMatch(/EPIPE|\n\s+at |node:internal/);
    expect(piped.code).toBe(normal.code);
  });

  it('an error report into closed stdout and stderr still exits with its code', async () => {
    const piped = await intoClosedPipe(ws, ['deploy', 'staging', '--version', 'v9.9.9'], true);
    expect(piped.signal).toBeNull();
    expect(piped.code).toBe((await ws.run(['deploy', 'staging', '--version', 'v9.9.9'])).code);
  });
});
