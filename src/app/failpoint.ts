import type { Store } from '../adapters/store/store.js';

/**
 * Crash-testing seam: `SHIPGATE_FAILPOINT=deploy:stop-old:after` makes the process SIGKILL
 * itself at that point, so tests can prove every step resumes. Unset in normal use.
 *
 * `SHIPGATE_FAILPOINT=stop:monitor:trigger:before` makes it SIGSTOP itself there instead (a paused
 * process, as a long GC pause or a frozen VM): the controller's fencing tests resume it with SIGCONT.
 *
 * `SHIPGATE_FAILPOINT=store-full:deploy:stop-old:after[:N]` instead makes the next N writes to
 * the store (default: all) fail as a full disk does (SQLITE_FULL), to prove a deployment whose
 * record cannot follow it still leaves the environment on a known release.
 */
export function failpoint(kind: string, step: string, when: 'before' | 'after'): void {
  const wanted = process.env.SHIPGATE_FAILPOINT;
  if (!wanted) return;
  if (wanted === `${kind}:${step}:${when}`) process.kill(process.pid, 'SIGKILL');
  if (wanted === `stop:${kind}:${step}:${when}`) process.kill(process.pid, 'SIGSTOP');
  const full = /^store-full:([^:]+:[^:]+:[^:]+)(?::(\d+))?$/.exec(wanted);
  if (full && full[1] === `${kind}:${step}:${when}`) failingWrites = full[2] === undefined ? Infinity : Number(full[2]);
}

let failingWrites = 0;

const READS = /^(get|list|find|count|verify|close)/;

/** The store, with writes failing once a `store-full:` failpoint is reached (only when one is set). */
export function withStoreFailpoint(store: Store): Store {
  if (!process.env.SHIPGATE_FAILPOINT?.startsWith('store-full:')) return store;
  return new Proxy(store, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function' || typeof prop !== 'string' || READS.test(prop)) return typeof value === 'function' ? value.bind(target) : value;
      return (...args: unknown[]) => {
        if (failingWrites > 0) {
          failingWrites--;
          return Promise.reject(Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' }));
        }
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}
