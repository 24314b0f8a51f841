import { jsonField } from '../../core/safety-state.js';

export const REDIS_URL_VARIABLE = 'SHIPGATE_REDIS_URL';

export type RedisRead = { kind: 'value'; value: string | null } | { kind: 'error'; reason: string };

/**
 * One short-lived connection per read: the controller reads a handful of keys a second, and a
 * connection that cannot be made must surface as "no data", never hang the evaluation loop.
 */
export async function readRedisKey(url: string, key: string, timeoutMs = 2000): Promise<RedisRead> {
  // Loaded on first use: the redis client is the largest library of the CLI's start-up.
  const { createClient } = await import('redis');
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

/**
 * A key's value, or one field of the JSON object stored there (the `redis` check's `field`):
 * a key that is not a JSON object, or lacks the field, is an error, never a default.
 */
export async function readRedisValue(url: string, key: string, field?: string): Promise<RedisRead> {
  const r = await readRedisKey(url, key);
  if (r.kind === 'error' || r.value === null || !field) return r;
  const f = jsonField(r.value, field);
  if ('problem' in f) return { kind: 'error', reason: `${key} is ${f.problem} (field ${field} expected)` };
  return f.value === null ? { kind: 'error', reason: `${key} has no field ${field}` } : { kind: 'value', value: f.value };
}
