import { createClient } from 'redis';

export const REDIS_URL_VARIABLE = 'SHIPGATE_REDIS_URL';

export type RedisRead = { kind: 'value'; value: string | null } | { kind: 'error'; reason: string };

/**
 * One short-lived connection per read: the controller reads a handful of keys a second, and a
 * connection that cannot be made must surface as "no data", never hang the evaluation loop.
 */
export async function readRedisKey(url: string, key: string, timeoutMs = 2000): Promise<RedisRead> {
  const client = createClient({ url, socket: { connectTimeout: timeoutMs, reconnectStrategy: false } });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const value = await client.get(key);
    return { kind: 'value', value };
  } catch (err) {
    return { kind: 'error', reason: (err as Error).message || 'redis unreachable' };
  } finally {
    if (client.isOpen) await client.quit().catch(() => undefined);
  }
}
