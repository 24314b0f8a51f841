// `shipgate serve --http` as a user runs it: the bind policy, the controller's metrics, and HTTPS.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkBind, isLoopback, parseListen } from '../src/server/bind.js';
import { BIN, shipgate } from './harness/cli.js';

let dir: string;
const env = { SHIPGATE_ACTOR: 'operator', SHIPGATE_DATABASE_URL: '' };

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'shipgate-serve-api-'));
  writeFileSync(path.join(dir, 'shipgate.yml'), 'version: 1\nproject: serve-api\nservices:\n  web: { command: [node, web.mjs], port: 18099 }\nenvironments:\n  production: {}\n');
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Starts `shipgate serve` and waits for the line naming the API's URL; stopped by its PID. */
async function startServe(args: string[]): Promise<{ child: ChildProcess; url: string; stop(): Promise<void> }> {
  const child = spawn(process.execPath, [BIN, 'serve', '--json', ...args], { cwd: dir, env: { ...process.env, ...env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /\{"kind":"api","url":"([^"]+)"\}/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`serve exited ${code} before listening:\n${out}\n${err}`)));
  });
  return {
    child,
    url,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

describe('the bind policy', () => {
  it('knows loopback addresses and parses HOST:PORT', () => {
    expect(['127.0.0.1', '127.1.2.3', '::1', 'localhost'].map(isLoopback)).toEqual([true, true, true, true]);
    expect(['0.0.0.0', '10.0.0.5', '::', 'example.com'].map(isLoopback)).toEqual([false, false, false, false]);
    expect(parseListen('[::1]:8787')).toEqual({ host: '::1', port: 8787 });
    expect(parseListen('8787')).toEqual({ host: '127.0.0.1', port: 8787 });
    expect(() => checkBind({ host: '0.0.0.0', port: 1 }, { tls: true, insecureBind: false })).not.toThrow();
    expect(() => checkBind({ host: '0.0.0.0', port: 1 }, { tls: false, insecureBind: true })).not.toThrow();
  });

  it('refuses a non-loopback address without TLS or --insecure-bind (exit 3), before starting anything', async () => {
    const r = await shipgate(['serve', '--http', '0.0.0.0:0'], { cwd: dir, env });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/refusing to serve the API on 0\.0\.0\.0, which is not a loopback address, without TLS/);
    expect(r.stderr).toMatch(/--tls-cert FILE --tls-key FILE/);
    const half = await shipgate(['serve', '--http', '127.0.0.1:0', '--tls-cert', 'c.pem'], { cwd: dir, env });
    expect(half.code).toBe(2);
    expect(half.stderr).toMatch(/--tls-cert and --tls-key go together/);
    // Nothing was left behind: the controller's lease is free for the next serve.
    const lock = await shipgate(['lock', 'status', '--json'], { cwd: dir, env });
    expect(JSON.stringify(lock.json())).not.toContain('@controller');
  });
});

describe('serve --http', () => {
  it('serves /metrics with the running controller\'s loop durations', async () => {
    const serve = await startServe(['--http', '127.0.0.1:0']);
    try {
      expect(serve.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      let text = '';
      // The controller passes once per interval (1 s here): wait for a pass to be observed.
      while (!/shipgate_controller_loop_duration_seconds_count [1-9]/.test(text)) {
        text = await (await fetch(`${serve.url}/metrics`)).text();
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(text).toContain('# TYPE shipgate_deployments_total counter');
      expect((await fetch(`${serve.url}/api/me`)).status).toBe(401);
    } finally {
      await serve.stop();
    }
    expect(serve.child.exitCode).toBe(0);
  });

  it('serves HTTPS with --tls-cert/--tls-key, and the session cookie is Secure', async () => {
    const cert = path.join(dir, 'cert.pem');
    const key = path.join(dir, 'key.pem');
    const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { encoding: 'utf8' });
    expect(made.status, made.stderr).toBe(0);
    const token = (await shipgate(['token', 'create', '--name', 'tls-user', '--role', 'viewer', '--json'], { cwd: dir, env })).json().token as string;
    const serve = await startServe(['--http', '127.0.0.1:0', '--tls-cert', cert, '--tls-key', key]);
    try {
      expect(serve.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      const { status, headers, body } = await new Promise<{ status: number; headers: Record<string, unknown>; body: string }>((resolve, reject) => {
        const u = new URL(`${serve.url}/api/login`);
        const req = request({ host: u.hostname, port: u.port, path: u.pathname, method: 'POST', ca: readFileSync(cert), headers: { 'content-type': 'application/json' } }, (res) => {
          let text = '';
          res.on('data', (d) => (text += d));
          res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text }));
        });
        req.on('error', reject);
        req.end(JSON.stringify({ token }));
      });
      expect(status, body).toBe(200);
      expect(String(headers['set-cookie'])).toMatch(/; Secure/);
      expect(JSON.parse(body)).toMatchObject({ ok: true, name: 'tls-user', role: 'viewer' });
    } finally {
      await serve.stop();
    }
  });
});
