// The window's New York zone reads offsets through Date and TZ instead of Intl (issue 15: a first
// Intl.DateTimeFormat costs as much CPU as Node's start-up). It must agree with luxon's IANA zone
// everywhere, DST changes included, whatever the process's own TZ, and leave that TZ as it was.
import { DateTime, IANAZone } from 'luxon';
import { afterEach, describe, expect, it } from 'vitest';
import { NEW_YORK, newYork } from '../src/core/calendar/new-york-zone.js';

const iana = IANAZone.create(NEW_YORK);
const HOUR = 3_600_000;
const savedTz = process.env.TZ;
afterEach(() => {
  if (savedTz === undefined) delete process.env.TZ;
  else process.env.TZ = savedTz;
});

/** Every instant where New York's offset changes between `from` and `to`, found by luxon's IANA zone. */
function transitions(from: number, to: number): number[] {
  const found: number[] = [];
  const step = 6 * HOUR; // changes are months apart
  for (let t = from; t < to; t += step) {
    if (iana.offset(t) === iana.offset(t + step)) continue;
    let [lo, hi] = [t, t + step];
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (iana.offset(mid) === iana.offset(t)) lo = mid;
      else hi = mid;
    }
    found.push(hi);
  }
  return found;
}

describe('NewYorkZone', () => {
  const from = Date.UTC(2000, 0, 1);
  const to = Date.UTC(2041, 0, 1);
  const changes = transitions(from, to);

  it('has the IANA zone offset at each DST change of 2000-2040 and 1 ms before it, and every 13 hours between', () => {
    expect(changes).toHaveLength(82); // two a year
    for (const t of changes) for (const at of [t - 1, t, t + 1]) expect(newYork.offset(at), new Date(at).toISOString()).toBe(iana.offset(at));
    for (let t = from; t < to; t += 13 * HOUR) if (newYork.offset(t) !== iana.offset(t)) expect(newYork.offset(t), new Date(t).toISOString()).toBe(iana.offset(t));
  });

  it('gives the same answers under any process TZ, and leaves TZ as it was (set or unset)', () => {
    const sample = changes.slice(0, 6).flatMap((t) => [t - 1, t]);
    for (const tz of ['Asia/Tokyo', 'UTC', NEW_YORK, undefined]) {
      if (tz === undefined) delete process.env.TZ;
      else process.env.TZ = tz;
      const localBefore = new Date(Date.UTC(2026, 6, 1)).getTimezoneOffset();
      const fresh = new (newYork.constructor as new () => typeof newYork)();
      for (const t of sample) expect(fresh.offset(t), `${tz} ${new Date(t).toISOString()}`).toBe(iana.offset(t));
      expect(process.env.TZ).toBe(tz);
      expect(new Date(Date.UTC(2026, 6, 1)).getTimezoneOffset()).toBe(localBefore);
    }
  });

  it('places local times as luxon\'s IANA zone does, across the spring gap and the autumn overlap', () => {
    for (const local of ['2026-03-08T02:30:00', '2026-03-08T03:00:00', '2026-11-01T01:30:00', '2026-11-01T02:00:00', '2026-07-04T09:30:00']) {
      const ours = DateTime.fromISO(local, { zone: newYork, locale: 'en-US' });
      const theirs = DateTime.fromISO(local, { zone: NEW_YORK });
      expect(ours.toMillis(), local).toBe(theirs.toMillis());
      expect(ours.toISO(), local).toBe(theirs.toISO());
    }
    expect(DateTime.fromMillis(Date.UTC(2026, 0, 5, 15), { zone: newYork }).toFormat('ZZ ZZZ Z')).toBe('-05:00 -0500 -5');
  });
});
