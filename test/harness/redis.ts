// A throwaway Redis server for tests: `redis-server` on a free loopback port as our child, no
// persistence, its working dir in a temp dir; stopped by PID. Never skips: a missing binary is an
// error naming the script that installs it.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createClient } from 'redis';
import { spawnServer } from './server-process.js';
import { freePort } from '../../src/demo/free-port.js';
import { scaled } from './pace.js';

export interface RedisServer {
  /** redis://127.0.0.1:PORT */
  url: string;
  port: number;
  /** SIGTERM to the server's PID, SIGKILL if it lingers; removes the temp dir. Safe to call twice. */
  stop(): Promise<void>;
}

const MISSING = 'redis-server not found on PATH; run `bash scripts/ensure-system-deps.sh` (installs the Debian redis-server package)';

function findRedisServer(): string | undefined {
  return (process.env.PATH ?? '')
    .split(path.delimiter)
    .filter(Boolean)
    .map((dir) => path.join(dir, 'redis-server'))
    .find((file) => existsSync(file));
}

export function redisAvailable(): boolean {
  return findRedisServer() !== undefined;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function ping(url: string): Promise<string | undefined> {
  const client = createClient({ url, socket: { connectTimeout: 500, reconnectStrategy: false } });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return (await client.ping()) === 'PONG' ? undefined : 'no PONG';
  } catch (err) {
    return (err as Error).message || 'unreachable';
  } finally {
    if (client.isOpen) await client.quit().catch(() => undefined);
  }
}

export async function startRedis(): Promise<RedisServer> {
  const bin = findRedisServer();
  if (!bin) throw new Error(MISSING);

  const dir = mkdtempSync(path.join(os.tmpdir(), 'shipgate-redis-'));
  // Another process may take the port between freePort() and redis binding it: try a few.
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const server = spawnServer(
      bin,
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no', '--protected-mode', 'yes', '--loglevel', 'warning'],
      dir,
    );

    let stopped = false;
    const stop = async () => {
      if (stopped) return;
      stopped = true;
      if (!server.exited && server.child.pid !== undefined) {
        try {
          process.kill(server.child.pid, 'SIGTERM');
        } catch {
          /* already gone */
        }
        await Promise.race([server.exit, sleep(5_000)]);
        if (!server.exited) {
          try {
            process.kill(server.child.pid, 'SIGKILL');
          } catch {
            /* already gone */
          }
          await Promise.race([server.exit, sleep(5_000)]);
        }
      }
      rmSync(dir, { recursive: true, force: true });
    };

    const url = `redis://127.0.0.1:${port}`;
    const deadline = Date.now() + scaled(15_000);
    let problem: string | undefined = 'not started';
    while (!server.exited && Date.now() < deadline) {
      problem = await ping(url);
      if (!problem) return { url, port, stop };
      await sleep(50);
    }
    if (server.exited && /Address already in use/i.test(server.log) && attempt < 5) continue;
    await stop();
    throw new Error(server.exited ? `redis-server exited before answering PING:\n${server.log}` : `redis-server did not answer PING within 15 s (${problem}):\n${server.log}`);
  }
}
