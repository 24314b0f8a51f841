import { failed } from '../../core/errors.js';
import { mergeJson, type KeyChange } from '../../core/safety-state.js';
import type { SafetyRead, SafetyStore } from './safety-state.js';

const redact = (url: string) => url.replace(/\/\/([^@/]*)@/, '//***@');

/** The platform's Redis keys, read in one round trip (MGET) and changed in one transaction. */
export class RedisSafetyStore implements SafetyStore {
  readonly describe: string;

  constructor(
    private readonly url: string,
    private readonly prefix: string,
    private readonly timeoutMs = 3000,
  ) {
    this.describe = `redis ${redact(url)}${prefix ? ` prefix "${prefix}"` : ''}`;
  }

  private key(k: string): string {
    return `${this.prefix}${k}`;
  }

  private async connect() {
    // Loaded on first use: the redis client is the largest library of the CLI's start-up.
    const { createClient } = await import('redis');
    return createClient({ url: this.url, socket: { connectTimeout: this.timeoutMs, reconnectStrategy: false } });
  }

  private async withClient<T>(run: (c: Awaited<ReturnType<RedisSafetyStore['connect']>>) => Promise<T>): Promise<T> {
    const client = await this.connect();
    client.on('error', () => undefined);
    try {
      await client.connect();
      return await run(client);
    } finally {
      if (client.isOpen) await client.quit().catch(() => undefined);
    }
  }

  async read(keys: string[]): Promise<SafetyRead> {
    try {
      const { values, misread } = await this.withClient(async (c) => {
        const got = await c.mGet(keys.map((k) => this.key(k)));
        // MGET answers nil for a key of another type too: a breaker kept in a hash is not "absent"
        // (which may mean trading); it cannot be read, so the state is unknown.
        const absent = keys.filter((_, i) => got[i] === null || got[i] === undefined);
        const types = await Promise.all(absent.map(async (k) => [k, await c.type(this.key(k))] as const));
        return { values: got, misread: types.filter(([, type]) => type !== 'none') };
      });
      if (misread.length) {
        return { kind: 'unavailable', reason: `${this.describe}: ${misread.map(([k, type]) => `${this.key(k)} is a ${type}, not a string`).join('; ')}; shipgate reads a plain string or a JSON object kept as a string (SET), so the state is unknown` };
      }
      return { kind: 'ok', values: Object.fromEntries(keys.map((k, i) => [k, values[i] ?? null])) };
    } catch (err) {
      return { kind: 'unavailable', reason: `${this.describe}: ${(err as Error).message}` };
    }
  }

  /**
   * JSON objects are read, merged and written back under WATCH, so a field the platform changes
   * meanwhile is never lost: the transaction is retried on the fresh object instead.
   */
  async apply(changes: KeyChange[]): Promise<void> {
    let problem: string | undefined;
    try {
      await this.withClient(async (c) => {
        const merged = [...new Set(changes.filter((x) => x.kind === 'merge-json').map((x) => this.key(x.key)))];
        const strings = [...new Set(changes.filter((x) => x.kind !== 'append').map((x) => this.key(x.key)))];
        for (let attempt = 1; ; attempt++) {
          if (strings.length) await c.watch(strings);
          // SET would replace a key of another type (the platform's hash) whole: refuse instead.
          const other = (await Promise.all(strings.map(async (k) => [k, await c.type(k)] as const))).filter(([, type]) => type !== 'none' && type !== 'string');
          if (other.length) {
            problem = other.map(([k, type]) => `${k} is a ${type}, not a string: shipgate would replace it whole`).join('; ');
            await c.unwatch();
            return;
          }
          const current = merged.length ? await c.mGet(merged) : [];
          const now = new Map(merged.map((k, i) => [k, current[i] ?? null]));
          const multi = c.multi();
          for (const x of changes) {
            const key = this.key(x.key);
            if (x.kind === 'set') multi.set(key, x.value);
            else if (x.kind === 'append') multi.rPush(key, x.value);
            else {
              const next = mergeJson(now.get(key) ?? null, x.fields);
              if ('problem' in next) {
                problem = `${key} ${next.problem}`;
                await c.unwatch();
                return;
              }
              now.set(key, next.value);
              multi.set(key, next.value);
            }
          }
          try {
            await multi.exec();
            return;
          } catch (err) {
            if ((err as Error).name !== 'WatchError' || attempt >= 5) throw err;
          }
        }
      });
    } catch (err) {
      throw failed(`could not write the safety state to ${this.describe}: ${(err as Error).message}`, { hint: 'Check that Redis is reachable; the previous state is unchanged.' });
    }
    if (problem) throw failed(problem, { hint: 'Check trading.breaker / trading.killSwitch `field` against what the platform stores; nothing was changed.' });
  }
}
