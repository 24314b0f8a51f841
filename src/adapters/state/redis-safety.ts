import { createClient } from 'redis';
import { failed } from '../../core/errors.js';
import { allKeys, SAFETY_KEYS, type SafetyRead, type SafetyStore, type SafetyValues } from './safety-state.js';

const redact = (url: string) => url.replace(/\/\/([^@/]*)@/, '//***@');

/** The seeds' Redis keys, read and written in one round trip each (MGET / MULTI). */
export class RedisSafetyStore implements SafetyStore {
  readonly describe: string;

  constructor(
    private readonly url: string,
    private readonly prefix: string,
    private readonly timeoutMs = 3000,
  ) {
    this.describe = `redis ${redact(url)}${prefix ? ` prefix "${prefix}"` : ''}`;
  }

  private key(k: keyof typeof SAFETY_KEYS): string {
    return `${this.prefix}${SAFETY_KEYS[k]}`;
  }

  private connect() {
    return createClient({ url: this.url, socket: { connectTimeout: this.timeoutMs, reconnectStrategy: false } });
  }

  private async withClient<T>(run: (c: ReturnType<RedisSafetyStore['connect']>) => Promise<T>): Promise<T> {
    const client = this.connect();
    client.on('error', () => undefined);
    try {
      await client.connect();
      return await run(client);
    } finally {
      if (client.isOpen) await client.quit().catch(() => undefined);
    }
  }

  async read(): Promise<SafetyRead> {
    try {
      const values = await this.withClient((c) => c.mGet(allKeys.map((k) => this.key(k))));
      return { kind: 'ok', values: Object.fromEntries(allKeys.map((k, i) => [k, values[i] ?? null])) as Record<(typeof allKeys)[number], string | null> };
    } catch (err) {
      return { kind: 'unavailable', reason: `${this.describe}: ${(err as Error).message}` };
    }
  }

  async write(values: SafetyValues): Promise<void> {
    try {
      await this.withClient(async (c) => {
        const multi = c.multi();
        for (const [k, v] of Object.entries(values)) multi.set(this.key(k as keyof typeof SAFETY_KEYS), v);
        await multi.exec();
      });
    } catch (err) {
      throw failed(`could not write the safety state to ${this.describe}: ${(err as Error).message}`, { hint: 'Check that Redis is reachable; the previous state is unchanged.' });
    }
  }
}
