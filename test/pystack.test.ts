// The second sample stack itself (test/fixtures/pystack), run as plain processes from its git tags:
// what each release does must hold before shipgate is judged on it.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { histogramBuckets, sumSamples, parseMatchers } from '../src/adapters/metrics/series.js';
import { parseExposition } from '../src/adapters/metrics/exposition.js';
import { bucketQuantile } from '../src/adapters/metrics/series.js';
import { freePort } from '../src/demo/free-port.js';
import { buildPyRepo, type PyRelease, type PyRepo } from './fixtures/pystack/build-repo.js';
import { scaled } from './harness/pace.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'shipgate-pystack-fixture-'));
let repo: PyRepo;
const children: ChildProcess[] = [];

async function start(tag: PyRelease): Promise<{ url: string; child: ChildProcess }> {
  const dir = path.join(root, tag);
  execFileSync('git', ['-C', repo.dir, 'worktree', 'add', '--quiet', '--detach', dir, tag], { stdio: 'pipe' });
  const port = await freePort();
  const child = spawn('python3', ['quotes.py'], { cwd: dir, env: { PATH: process.env.PATH ?? '', PORT: String(port), TRAFFIC_RPS: '50' }, stdio: 'ignore' });
  children.push(child);
  const url = `http://127.0.0.1:${port}`;
  for (const deadline = Date.now() + scaled(20_000); Date.now() < deadline; await new Promise((r) => setTimeout(r, 100))) {
    if (child.exitCode !== null) throw new Error(`${tag} exited with ${child.exitCode}`);
    if (await fetch(`${url}/healthz`).then((r) => r.ok, () => false)) return { url, child };
  }
  throw new Error(`${tag} did not answer /healthz`);
}

async function scrape(url: string) {
  const res = await fetch(`${url}/metrics`);
  expect(res.headers.get('content-type')).toContain('text/plain; version=0.0.4');
  return parseExposition(await res.text());
}

/** The quote API's requests and p95 once at least n requests were served. */
async function measured(url: string, n: number) {
  for (;;) {
    const samples = (await scrape(url)).samples;
    const total = sumSamples(samples, 'app_requests_total', parseMatchers('route="/api/quote"')) ?? 0;
    if (total >= n) {
      const buckets = histogramBuckets(samples, 'app_request_latency_seconds', parseMatchers('route="/api/quote"'))!;
      return { total, errors: sumSamples(samples, 'app_requests_total', parseMatchers('route="/api/quote",status="500"')) ?? 0, p95: bucketQuantile(0.95, buckets)!, samples };
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

beforeAll(() => {
  repo = buildPyRepo(path.join(root, 'repo'), ['2026.1.0', '2026.2.0', '2026.3.0', '2026.4.0']);
});

afterAll(async () => {
  for (const c of children) {
    if (c.exitCode !== null || c.signalCode !== null) continue;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGTERM');
    await exited;
  }
  rmSync(root, { recursive: true, force: true });
});

describe('pystack releases', () => {
  it('are annotated git tags whose BUILD file names them', () => {
    const git = (...args: string[]) => execFileSync('git', ['-C', repo.dir, ...args], { encoding: 'utf8' }).trim();
    expect(git('tag', '-l').split('\n')).toEqual(['2026.1.0', '2026.2.0', '2026.3.0', '2026.4.0']);
    for (const tag of repo.tags) {
      expect(git('cat-file', '-t', tag)).toBe('tag');
      expect(git('show', `${tag}:BUILD`)).toBe(tag);
    }
  });

  it('2026.1.0 has its own health shape and metric names, and its latency profile; 2026.2.0 is 60% slower', async () => {
    const [base, slow] = await Promise.all([start('2026.1.0'), start('2026.2.0')]);
    expect(await (await fetch(`${base.url}/healthz`)).json()).toEqual({ state: 'ok', build: '2026.1.0' });
    const [b, s] = await Promise.all([measured(base.url, 200), measured(slow.url, 200)]);
    const names = new Set(b.samples.map((x) => x.name));
    expect(names.has('app_requests_total') && names.has('app_request_latency_seconds_bucket')).toBe(true);
    expect(names.has('http_requests_total')).toBe(false);
    expect(Object.keys(b.samples.find((x) => x.name === 'app_requests_total')!.labels).sort()).toEqual(['route', 'status']);
    expect(b.errors).toBe(0);
    // A 100-290 ms rotation: p95 near 290 ms; the slow release scales each delay by 1.6.
    expect(b.p95).toBeGreaterThan(0.25);
    expect(b.p95).toBeLessThan(0.32);
    expect(s.p95 / b.p95).toBeGreaterThan(1.4);
  }, scaled(60_000));

  it('2026.3.0 fails 8% of API requests with 500 and stays healthy', async () => {
    const bad = await start('2026.3.0');
    const m = await measured(bad.url, 250);
    expect(m.errors / m.total).toBeGreaterThan(0.06);
    expect(m.errors / m.total).toBeLessThan(0.1);
    expect((await fetch(`${bad.url}/healthz`)).status).toBe(200);
  }, scaled(60_000));

  it('2026.4.0 answers /metrics at first, then closes the connection without an answer; /healthz stays up', async () => {
    const dying = await start('2026.4.0');
    const firstTry = await fetch(`${dying.url}/metrics`).then((r) => r.status, () => 'dead');
    for (const deadline = Date.now() + scaled(20_000); ; await new Promise((r) => setTimeout(r, 200))) {
      const outcome = await fetch(`${dying.url}/metrics`).then((r) => r.status, (e: Error) => e.message);
      if (outcome !== 200) {
        expect(outcome).toMatch(/fetch failed/);
        break;
      }
      if (Date.now() > deadline) throw new Error('the metrics endpoint never died');
    }
    expect([200, 'dead']).toContain(firstTry);
    expect(await (await fetch(`${dying.url}/healthz`)).json()).toEqual({ state: 'ok', build: '2026.4.0' });
  }, scaled(60_000));
});
