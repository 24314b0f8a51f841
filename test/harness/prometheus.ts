// A throwaway Prometheus server for tests: config and TSDB in a temp dir, listening on a free
// loopback port, run as our child and stopped by PID. Never skips: a missing binary is an error.
import { spawn } from 'node:child_process';
import { accessSync, constants, closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../src/demo/free-port.js';
import { scaled } from './pace.js';

export interface PrometheusServer {
  /** Base URL, e.g. http://127.0.0.1:40123 */
  url: string;
  stop(): Promise<void>;
}

const MISSING = 'the `prometheus` binary was not found on PATH or at /usr/bin/prometheus; run `bash scripts/ensure-system-deps.sh`';
const READY_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 10_000;

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export function findPrometheus(): string | undefined {
  const candidates = [
    ...(process.env.PATH ?? '')
      .split(path.delimiter)
      .filter(Boolean)
      .map((dir) => path.join(dir, 'prometheus')),
    '/usr/bin/prometheus',
  ];
  return candidates.find((file) => existsSync(file) && isExecutable(file));
}

function readLog(file: string): string {
  try {
    const text = readFileSync(file, 'utf8').trim();
    return text.length > 4000 ? `…${text.slice(-4000)}` : text || '(empty)';
  } catch {
    return '(no log)';
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startPrometheus(targets: string[], opts: { scrapeInterval?: string } = {}): Promise<PrometheusServer> {
  const binary = findPrometheus();
  if (!binary) throw new Error(MISSING);
  for (const t of targets) {
    if (!/^127\.0\.0\.1:\d+$/.test(t)) throw new Error(`scrape targets must be 127.0.0.1:PORT, got ${JSON.stringify(t)}`);
  }
  const interval = opts.scrapeInterval ?? '1s';
  if (!/^\d+(ms|s|m)$/.test(interval)) throw new Error(`scrapeInterval must look like 1s or 500ms, got ${JSON.stringify(interval)}`);

  const dir = mkdtempSync(path.join(os.tmpdir(), 'shipgate-prometheus-'));
  const configFile = path.join(dir, 'prometheus.yml');
  const logFile = path.join(dir, 'prometheus.log');
  writeFileSync(
    configFile,
    [
      'global:',
      `  scrape_interval: ${interval}`,
      `  scrape_timeout: ${interval}`,
      '  evaluation_interval: 1s',
      'scrape_configs:',
      '  - job_name: stack',
      '    metrics_path: /metrics',
      '    static_configs:',
      `      - targets: [${targets.map((t) => JSON.stringify(t)).join(', ')}]`,
      '',
    ].join('\n'),
  );

  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const logFd = openSync(logFile, 'a');
  const child = spawn(
    binary,
    [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { cwd: dir, stdio: ['ignore', logFd, logFd] },
  );
  closeSync(logFd);

  let spawnError: Error | undefined;
  child.on('error', (err) => {
    spawnError = err;
  });
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', () => resolve());
  });
  const running = () => child.exitCode === null && child.signalCode === null && spawnError === undefined;
  const pid = child.pid;

  let stopped = false;
  async function stop(): Promise<void> {
    if (stopped) return;
    stopped = true;
    if (pid !== undefined && running()) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        /* already gone */
      }
      const timedOut = await Promise.race([exited.then(() => false), sleep(STOP_GRACE_MS).then(() => true)]);
      if (timedOut && running()) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
        await exited;
      }
    }
    rmSync(dir, { recursive: true, force: true });
  }

  const deadline = Date.now() + scaled(READY_TIMEOUT_MS);
  let lastError = 'no answer yet';
  while (true) {
    if (!running()) {
      const why = spawnError ? spawnError.message : `exited with ${child.exitCode ?? child.signalCode}`;
      const log = readLog(logFile);
      await stop();
      throw new Error(`prometheus (${binary}) ${why} before it was ready; log:\n${log}`);
    }
    try {
      const res = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.ok) break;
      lastError = `HTTP ${res.status}`;
    } catch (err) {
      lastError = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
    }
    if (Date.now() > deadline) {
      const log = readLog(logFile);
      await stop();
      throw new Error(`prometheus on ${url} not ready within ${READY_TIMEOUT_MS / 1000}s (${lastError}); log:\n${log}`);
    }
    await sleep(100);
  }

  return { url, stop };
}
