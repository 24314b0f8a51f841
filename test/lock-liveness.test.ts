// When an environment lock proves nothing any more: its lease ran out, its process on this host is
// gone, or it was a controller leader's and a newer generation leads (its holder is fenced).
import { describe, expect, it } from 'vitest';
import type { LockRecord } from '../src/adapters/store/store.js';
import { describeLock, lockLiveness, supersededLeader } from '../src/app/locks.js';

const now = new Date('2026-12-03T10:00:00Z');
const lock = (over: Partial<LockRecord> = {}): LockRecord => ({
  env: 'production', owner: 'tester@host-b:4242', actor: 'tester', reason: 'rollback', token: 't',
  acquiredAt: '2026-12-03T09:59:00Z', leaseUntil: '2026-12-03T10:09:00Z', host: 'host-b', pid: 4242, generation: null, ...over,
});

describe('lock liveness', () => {
  it("holds a command's lock on another host until its lease ends, whoever leads", () => {
    expect(lockLiveness(lock(), now, 'host-a', 5)).toBe('held');
    expect(lockLiveness(lock({ leaseUntil: '2026-12-03T09:59:59Z' }), now, 'host-a', 5)).toBe('stale');
  });

  it("holds a leader's lock while its generation leads, and drops it once a newer one does", () => {
    expect(lockLiveness(lock({ generation: 3 }), now, 'host-a', 3)).toBe('held');
    expect(lockLiveness(lock({ generation: 3 }), now, 'host-a', undefined)).toBe('held');
    expect(lockLiveness(lock({ generation: 3 }), now, 'host-a', 4)).toBe('stale');
    expect(supersededLeader(lock({ generation: 3 }), 4)).toBe(true);
    expect(supersededLeader(lock(), 4)).toBe(false);
  });

  it('says whose lock it is and why it is stale', () => {
    expect(describeLock(lock({ generation: 3 }), 4)).toBe(
      'tester (rollback) since 2026-12-03T09:59:00Z, lease until 2026-12-03T10:09:00Z, taken by the controller of generation 3, which no longer leads (generation 4 does)',
    );
    expect(describeLock(lock())).toBe('tester (rollback) since 2026-12-03T09:59:00Z, lease until 2026-12-03T10:09:00Z');
  });
});
