// The deployment window (src/core/calendar/window.ts) and `shipgate window check`.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findConfigFile } from '../src/config/load.js';
import {
  checkWindow,
  DEFAULT_WINDOW_POLICY,
  parseInstant,
  type CalendarConfig,
  type WindowDecision,
  type WindowPolicy,
} from '../src/core/calendar/window.js';
import { ShipgateError } from '../src/core/errors.js';
import { shipgate } from './harness/cli.js';

const check = (iso: string, policy: WindowPolicy = DEFAULT_WINDOW_POLICY, calendar?: CalendarConfig): WindowDecision =>
  checkWindow(new Date(iso), policy, calendar);

const brief = (d: WindowDecision) => ({ open: d.open, reason: d.reason, nextOpen: d.nextOpen });

describe('window policy: the NYSE session', () => {
  it('refuses during the regular session of a weekday; opens at the close', () => {
    expect(brief(check('2026-11-24T10:00:00-05:00'))).toEqual({
      open: false,
      reason: 'regular session 09:30–16:00 ET on Tue 2026-11-24',
      nextOpen: '2026-11-24T16:00:00-05:00',
    });
    expect(check('2026-11-24T09:30:00-05:00').open).toBe(false);
    expect(check('2026-11-24T15:59:59.999-05:00').nextOpen).toBe('2026-11-24T16:00:00-05:00');
  });

  it('allows after the close and before the open', () => {
    expect(brief(check('2026-11-24T16:00:00-05:00'))).toEqual({
      open: true,
      reason: 'outside the regular session: after the 16:00 ET close on Tue 2026-11-24',
      nextOpen: null,
    });
    expect(brief(check('2026-11-24T17:30:00-05:00')).open).toBe(true);
    expect(brief(check('2026-11-25T09:29:00-05:00'))).toEqual({
      open: true,
      reason: 'outside the regular session: before the 09:30 ET open on Wed 2026-11-25',
      nextOpen: null,
    });
  });

  it('early-close day: closed at 12:30, open at 13:30', () => {
    const noon = check('2026-11-27T12:30:00-05:00');
    expect(brief(noon)).toEqual({
      open: false,
      reason: 'regular session 09:30–13:00 ET (early close: day after Thanksgiving) on Fri 2026-11-27',
      nextOpen: '2026-11-27T13:00:00-05:00',
    });
    expect(noon.session).toEqual({ date: '2026-11-27', open: '09:30', close: '13:00', earlyClose: 'day after Thanksgiving' });
    expect(brief(check('2026-11-27T13:30:00-05:00'))).toEqual({
      open: true,
      reason: 'outside the regular session: after the 13:00 ET early close (day after Thanksgiving) on Fri 2026-11-27',
      nextOpen: null,
    });
    expect(check('2026-12-24T13:00:00-05:00').open).toBe(true); // Christmas Eve 2026
    expect(check('2026-12-24T12:59:00-05:00').nextOpen).toBe('2026-12-24T13:00:00-05:00');
  });

  it('allows on exchange holidays and weekends', () => {
    expect(brief(check('2026-11-26T10:00:00-05:00'))).toEqual({ open: true, reason: 'Thanksgiving Day (NYSE closed)', nextOpen: null });
    expect(check('2026-11-26T10:00:00-05:00').rule).toBe('holiday');
    expect(brief(check('2026-07-03T11:00:00-04:00'))).toEqual({ open: true, reason: 'Independence Day, observed on Fri 2026-07-03 (NYSE closed)', nextOpen: null });
    expect(brief(check('2026-11-28T10:00:00-05:00'))).toEqual({ open: true, reason: 'weekend: Sat 2026-11-28 (NYSE closed)', nextOpen: null });
    expect(check('2026-11-29T14:00:00-05:00').rule).toBe('weekend');
  });
});

describe('window policy: Monday mornings', () => {
  const monday = 'Monday morning before 12:00 ET (seed: avoid Monday mornings)';

  it('refuses on a trading Monday before 12:00, including before the open', () => {
    expect(brief(check('2026-11-23T08:00:00-05:00'))).toEqual({ open: false, reason: monday, nextOpen: '2026-11-23T16:00:00-05:00' });
    expect(brief(check('2026-11-23T11:59:00-05:00'))).toEqual({ open: false, reason: monday, nextOpen: '2026-11-23T16:00:00-05:00' });
    expect(check('2026-11-23T00:00:00-05:00').rule).toBe('monday-morning');
    expect(check('2026-11-22T23:59:59-05:00').open).toBe(true); // Sunday night
  });

  it('at 12:00 on a Monday the session still refuses', () => {
    const d = check('2026-11-23T12:00:00-05:00');
    expect(brief(d)).toEqual({ open: false, reason: 'regular session 09:30–16:00 ET on Mon 2026-11-23', nextOpen: '2026-11-23T16:00:00-05:00' });
    expect(d.rule).toBe('session');
    expect(check('2026-11-23T16:00:00-05:00').open).toBe(true);
  });

  it('a Monday holiday is not a trading Monday: open in the morning', () => {
    expect(brief(check('2026-01-19T08:00:00-05:00'))).toEqual({ open: true, reason: 'Martin Luther King, Jr. Day (NYSE closed)', nextOpen: null });
    expect(check('2027-07-05T10:00:00-04:00').open).toBe(true); // Independence Day observed
  });

  it('on an early-close Monday the window opens at the 13:00 close', () => {
    expect(brief(check('2028-07-03T11:00:00-04:00'))).toEqual({ open: false, reason: monday, nextOpen: '2028-07-03T13:00:00-04:00' });
    // A later Monday rule outlasts the early close.
    const late = check('2028-07-03T12:30:00-04:00', { enforce: true, mondayMorningUntil: '14:00' });
    expect(brief(late)).toEqual({ open: false, reason: 'Monday morning before 14:00 ET (seed: avoid Monday mornings)', nextOpen: '2028-07-03T14:00:00-04:00' });
  });

  it('mondayMorningUntil is configurable; null disables the rule', () => {
    const off = { enforce: true, mondayMorningUntil: null };
    expect(brief(check('2026-11-23T08:00:00-05:00', off))).toEqual({
      open: true,
      reason: 'outside the regular session: before the 09:30 ET open on Mon 2026-11-23',
      nextOpen: null,
    });
    expect(check('2026-11-23T10:00:00-05:00', off).rule).toBe('session');
    const early = { enforce: true, mondayMorningUntil: '09:00' };
    expect(check('2026-11-23T08:59:00-05:00', early).nextOpen).toBe('2026-11-23T09:00:00-05:00');
    expect(check('2026-11-23T09:10:00-05:00', early).open).toBe(true);
  });

  it('rejects an impossible mondayMorningUntil as bad input', () => {
    const err = (() => {
      try {
        check('2026-11-23T08:00:00-05:00', { enforce: true, mondayMorningUntil: '25:00' });
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ShipgateError);
    expect((err as ShipgateError).exitCode).toBe(2);
    expect((err as ShipgateError).message).toContain('mondayMorningUntil');
  });
});

describe('window policy: freezes and closures', () => {
  const yearEnd: CalendarConfig = { closures: [], freezes: [{ from: '2026-12-21', to: '2027-01-03', reason: 'year-end freeze' }] };

  it('a freeze refuses even on weekends and holidays; nextOpen is the first open instant after it', () => {
    const d = check('2026-12-26T10:00:00-05:00', DEFAULT_WINDOW_POLICY, yearEnd);
    // The freeze ends with Sunday January 3 (a bare `to` date is inclusive); Monday January 4 is a
    // trading Monday: refused before 12:00, then the session until 16:00.
    expect(brief(d)).toEqual({ open: false, reason: 'change freeze: year-end freeze', nextOpen: '2027-01-04T16:00:00-05:00' });
    expect(d.rule).toBe('freeze');
    expect(d.freeze).toEqual({ from: '2026-12-21T00:00:00-05:00', to: '2027-01-04T00:00:00-05:00', reason: 'year-end freeze' });
    expect(check('2026-12-25T10:00:00-05:00', DEFAULT_WINDOW_POLICY, yearEnd).open).toBe(false); // Christmas
    expect(check('2026-12-20T23:59:00-05:00', DEFAULT_WINDOW_POLICY, yearEnd).open).toBe(true);
    expect(check('2027-01-03T23:59:00-05:00', DEFAULT_WINDOW_POLICY, yearEnd).open).toBe(false);
  });

  it('a freeze with times is [from, to); ending in a session, the window opens at the close', () => {
    const cal: CalendarConfig = { closures: [], freezes: [{ from: '2026-11-24T17:00:00-05:00', to: '2026-11-25T02:00:00Z', reason: 'release train' }] };
    expect(brief(check('2026-11-24T18:00:00-05:00', DEFAULT_WINDOW_POLICY, cal))).toEqual({
      open: false,
      reason: 'change freeze: release train',
      nextOpen: '2026-11-24T21:00:00-05:00',
    });
    expect(check('2026-11-24T21:00:00-05:00', DEFAULT_WINDOW_POLICY, cal).open).toBe(true);
    const intoSession: CalendarConfig = { closures: [], freezes: [{ from: '2026-11-24T20:00:00', to: '2026-11-25T11:00:00', reason: 'maintenance' }] };
    expect(check('2026-11-24T22:00:00-05:00', DEFAULT_WINDOW_POLICY, intoSession).nextOpen).toBe('2026-11-25T16:00:00-05:00');
  });

  it('an unreadable or reversed freeze is bad input naming the field', () => {
    for (const freezes of [[{ from: 'soon', to: '2026-12-01', reason: 'x' }], [{ from: '2026-12-02', to: '2026-12-01', reason: 'x' }]]) {
      try {
        check('2026-11-24T10:00:00-05:00', DEFAULT_WINDOW_POLICY, { closures: [], freezes });
        expect.unreachable();
      } catch (e) {
        expect(e).toBeInstanceOf(ShipgateError);
        expect((e as ShipgateError).exitCode).toBe(2);
        expect((e as ShipgateError).message).toMatch(/calendar\.freezes\[0\]/);
      }
    }
  });

  it('a closure behaves like a holiday (also on a Monday morning)', () => {
    const cal: CalendarConfig = { closures: ['2026-03-10', '2026-11-23'], freezes: [] };
    expect(brief(check('2026-03-10T10:00:00-04:00', DEFAULT_WINDOW_POLICY, cal))).toEqual({
      open: true,
      reason: 'ad hoc market closure on Tue 2026-03-10 (calendar.closures; NYSE closed)',
      nextOpen: null,
    });
    expect(check('2026-03-10T10:00:00-04:00', DEFAULT_WINDOW_POLICY, cal).rule).toBe('closure');
    expect(check('2026-11-23T08:00:00-05:00', DEFAULT_WINDOW_POLICY, cal).open).toBe(true);
  });

  it('enforce: false reports the rule but never refuses', () => {
    const d = check('2026-11-24T10:00:00-05:00', { enforce: false, mondayMorningUntil: '12:00' });
    expect(d).toMatchObject({ open: true, nextOpen: null, enforced: false, rule: 'session' });
    expect(d.reason).toMatch(/^window not enforced .*regular session 09:30–16:00 ET on Tue 2026-11-24$/);
  });
});

/** The same instant written with another UTC offset (plain arithmetic, independent of luxon). */
function withOffset(isoZ: string, offset: '+09:00' | '-07:00'): string {
  const sign = offset.startsWith('-') ? -1 : 1;
  const hours = Number(offset.slice(1, 3));
  const local = new Date(Date.parse(isoZ) + sign * hours * 3_600_000).toISOString().slice(0, 19);
  return `${local}${offset}`;
}

describe('DST changes (2026-03-08 and 2026-11-01): same answer in UTC, +09:00 and -07:00', () => {
  // [instant in UTC, New York wall time, expected open, reason, nextOpen]
  const cases: [string, string, boolean, string, string | null][] = [
    // Spring forward: EST (-05:00) until Sunday 2026-03-08 02:00, then EDT (-04:00).
    ['2026-03-06T20:59:00Z', '2026-03-06T15:59:00-05:00', false, 'regular session 09:30–16:00 ET on Fri 2026-03-06', '2026-03-06T16:00:00-05:00'],
    ['2026-03-06T21:00:00Z', '2026-03-06T16:00:00-05:00', true, 'outside the regular session: after the 16:00 ET close on Fri 2026-03-06', null],
    ['2026-03-08T06:59:00Z', '2026-03-08T01:59:00-05:00', true, 'weekend: Sun 2026-03-08 (NYSE closed)', null],
    ['2026-03-08T07:00:00Z', '2026-03-08T03:00:00-04:00', true, 'weekend: Sun 2026-03-08 (NYSE closed)', null],
    ['2026-03-09T12:00:00Z', '2026-03-09T08:00:00-04:00', false, 'Monday morning before 12:00 ET (seed: avoid Monday mornings)', '2026-03-09T16:00:00-04:00'],
    ['2026-03-09T15:59:00Z', '2026-03-09T11:59:00-04:00', false, 'Monday morning before 12:00 ET (seed: avoid Monday mornings)', '2026-03-09T16:00:00-04:00'],
    // 16:00Z is 12:00 EDT (session), not 11:00 EST (Monday rule).
    ['2026-03-09T16:00:00Z', '2026-03-09T12:00:00-04:00', false, 'regular session 09:30–16:00 ET on Mon 2026-03-09', '2026-03-09T16:00:00-04:00'],
    ['2026-03-09T19:59:00Z', '2026-03-09T15:59:00-04:00', false, 'regular session 09:30–16:00 ET on Mon 2026-03-09', '2026-03-09T16:00:00-04:00'],
    // 20:00Z is 16:00 EDT: open (it would be 15:00, in session, at -05:00).
    ['2026-03-09T20:00:00Z', '2026-03-09T16:00:00-04:00', true, 'outside the regular session: after the 16:00 ET close on Mon 2026-03-09', null],
    ['2026-03-10T13:29:00Z', '2026-03-10T09:29:00-04:00', true, 'outside the regular session: before the 09:30 ET open on Tue 2026-03-10', null],
    ['2026-03-10T13:30:00Z', '2026-03-10T09:30:00-04:00', false, 'regular session 09:30–16:00 ET on Tue 2026-03-10', '2026-03-10T16:00:00-04:00'],
    // Fall back: EDT (-04:00) until Sunday 2026-11-01 02:00, then EST (-05:00); 01:30 happens twice.
    ['2026-10-30T19:59:00Z', '2026-10-30T15:59:00-04:00', false, 'regular session 09:30–16:00 ET on Fri 2026-10-30', '2026-10-30T16:00:00-04:00'],
    ['2026-10-30T20:00:00Z', '2026-10-30T16:00:00-04:00', true, 'outside the regular session: after the 16:00 ET close on Fri 2026-10-30', null],
    ['2026-11-01T05:30:00Z', '2026-11-01T01:30:00-04:00', true, 'weekend: Sun 2026-11-01 (NYSE closed)', null],
    ['2026-11-01T06:30:00Z', '2026-11-01T01:30:00-05:00', true, 'weekend: Sun 2026-11-01 (NYSE closed)', null],
    ['2026-11-02T13:00:00Z', '2026-11-02T08:00:00-05:00', false, 'Monday morning before 12:00 ET (seed: avoid Monday mornings)', '2026-11-02T16:00:00-05:00'],
    // 16:30Z is 11:30 EST (Monday rule), not 12:30 EDT (session).
    ['2026-11-02T16:30:00Z', '2026-11-02T11:30:00-05:00', false, 'Monday morning before 12:00 ET (seed: avoid Monday mornings)', '2026-11-02T16:00:00-05:00'],
    ['2026-11-02T17:00:00Z', '2026-11-02T12:00:00-05:00', false, 'regular session 09:30–16:00 ET on Mon 2026-11-02', '2026-11-02T16:00:00-05:00'],
    // 20:30Z is 15:30 EST: still in session (it would be 16:30, after the close, at -04:00).
    ['2026-11-02T20:30:00Z', '2026-11-02T15:30:00-05:00', false, 'regular session 09:30–16:00 ET on Mon 2026-11-02', '2026-11-02T16:00:00-05:00'],
    ['2026-11-02T21:00:00Z', '2026-11-02T16:00:00-05:00', true, 'outside the regular session: after the 16:00 ET close on Mon 2026-11-02', null],
    ['2026-11-03T14:29:00Z', '2026-11-03T09:29:00-05:00', true, 'outside the regular session: before the 09:30 ET open on Tue 2026-11-03', null],
    ['2026-11-03T14:30:00Z', '2026-11-03T09:30:00-05:00', false, 'regular session 09:30–16:00 ET on Tue 2026-11-03', '2026-11-03T16:00:00-05:00'],
  ];

  it.each(cases)('%s (New York %s)', (isoZ, newYork, open, reason, nextOpen) => {
    const inputs = [isoZ, withOffset(isoZ, '+09:00'), withOffset(isoZ, '-07:00'), newYork];
    for (const input of inputs) expect(Date.parse(input), input).toBe(Date.parse(isoZ));
    for (const input of inputs) {
      const d = checkWindow(parseInstant(input)!);
      expect({ ...brief(d), at: d.at }, input).toEqual({ open, reason, nextOpen, at: newYork });
    }
  });

  it('spot check of the offset arithmetic', () => {
    expect(withOffset('2026-03-09T16:00:00Z', '+09:00')).toBe('2026-03-10T01:00:00+09:00');
    expect(withOffset('2026-03-09T16:00:00Z', '-07:00')).toBe('2026-03-09T09:00:00-07:00');
  });

  it('a freeze ending across the spring-forward change reports nextOpen in the new offset', () => {
    const cal: CalendarConfig = { closures: [], freezes: [{ from: '2026-03-06T12:00:00-05:00', to: '2026-03-08T12:00:00Z', reason: 'DST drill' }] };
    for (const at of ['2026-03-07T03:00:00Z', '2026-03-07T12:00:00+09:00', '2026-03-06T20:00:00-07:00']) {
      expect(checkWindow(new Date(at), DEFAULT_WINDOW_POLICY, cal).nextOpen, at).toBe('2026-03-08T08:00:00-04:00');
    }
  });
});

describe('parseInstant', () => {
  it('reads offsets and Z as given, offset-less times as New York time', () => {
    expect(parseInstant('2026-11-24T15:00:00Z')?.toISOString()).toBe('2026-11-24T15:00:00.000Z');
    expect(parseInstant('2026-11-24T10:00:00-05:00')?.toISOString()).toBe('2026-11-24T15:00:00.000Z');
    expect(parseInstant('2026-11-24T10:00')?.toISOString()).toBe('2026-11-24T15:00:00.000Z');
    expect(parseInstant('2026-07-01T10:00')?.toISOString()).toBe('2026-07-01T14:00:00.000Z');
    expect(parseInstant('2026-11-24')?.toISOString()).toBe('2026-11-24T05:00:00.000Z');
  });

  it('rejects what is not ISO-8601', () => {
    // A bare time would mean "today", which depends on the clock: refused.
    for (const bad of ['', 'now', '10:00', 'tomorrow 10am', '2026-13-01T10:00:00Z', '2026-11-24 10:00 EST', '11/24/2026']) {
      expect(parseInstant(bad), bad).toBeUndefined();
    }
  });
});

describe('shipgate window check (built CLI)', () => {
  let dir = '';

  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'shipgate-window-'));
    // The default policy applies only when no shipgate.yml is found here or in any directory above.
    expect(findConfigFile(dir), `a shipgate.yml above ${dir} would be used; remove it`).toBeUndefined();
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('closed: exit 3 with reason and nextOpen', async () => {
    const r = await shipgate(['window', 'check', '--at', '2026-11-24T10:00:00-05:00', '--json'], { cwd: dir });
    expect(r.code, r.stderr).toBe(3);
    expect(r.json()).toMatchObject({
      open: false,
      reason: 'regular session 09:30–16:00 ET on Tue 2026-11-24',
      nextOpen: '2026-11-24T16:00:00-05:00',
      at: '2026-11-24T10:00:00-05:00',
      timezone: 'America/New_York',
    });
  });

  it('open: exit 0, nextOpen null; the same instant in UTC gives the same answer', async () => {
    for (const at of ['2026-11-24T17:00:00-05:00', '2026-11-24T22:00:00Z', '2026-11-25T07:00:00+09:00']) {
      const r = await shipgate(['window', 'check', '--at', at, '--json'], { cwd: dir });
      expect(r.code, r.stderr).toBe(0);
      expect(r.json()).toMatchObject({
        open: true,
        reason: 'outside the regular session: after the 16:00 ET close on Tue 2026-11-24',
        nextOpen: null,
        at: '2026-11-24T17:00:00-05:00',
        timezone: 'America/New_York',
      });
    }
  });

  it('Monday morning and an early-close day', async () => {
    const monday = await shipgate(['window', 'check', '--at', '2026-11-23T13:00:00Z', '--json'], { cwd: dir });
    expect(monday.code).toBe(3);
    expect(monday.json()).toMatchObject({ open: false, reason: 'Monday morning before 12:00 ET (seed: avoid Monday mornings)', nextOpen: '2026-11-23T16:00:00-05:00' });
    const early = await shipgate(['window', 'check', '--at', '2026-11-27T13:30:00-05:00', '--json'], { cwd: dir });
    expect(early.code).toBe(0);
  });

  it('--env without a shipgate.yml uses the default policy', async () => {
    const r = await shipgate(['window', 'check', '--env', 'production', '--at', '2026-11-23T08:00:00-05:00', '--json'], { cwd: dir });
    expect(r.code, r.stderr).toBe(3);
    expect(r.json()).toMatchObject({ open: false, env: 'production', policy: 'default policy (no shipgate.yml found)' });
  });

  it('human output without --json', async () => {
    const r = await shipgate(['window', 'check', '--at', '2026-11-26T10:00:00-05:00'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('OPEN  Thanksgiving Day (NYSE closed)');
  });

  it('an invalid --at is bad input (exit 2) naming --at with an example', async () => {
    const r = await shipgate(['window', 'check', '--at', 'tomorrow'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--at');
    expect(r.stderr).toContain('2026-11-24T10:00:00-05:00');
    expect(r.stderr).not.toMatch(/\n\s+at .*\.js:\d+/); // no stack trace
    const j = await shipgate(['window', 'check', '--at', 'tomorrow', '--json'], { cwd: dir });
    expect(j.code).toBe(2);
    expect(j.json()).toMatchObject({ ok: false, error: { exitCode: 2, where: '--at' } });
    expect(j.json().error.message).toContain('"tomorrow"');
  });

  it('help documents the exit codes', async () => {
    const r = await shipgate(['window', 'check', '--help'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Exit codes: 0 the window is open; 3 it is closed/);
  });

  describe('with a shipgate.yml', () => {
    let cfgDir = '';
    beforeAll(() => {
      cfgDir = mkdtempSync(path.join(os.tmpdir(), 'shipgate-window-cfg-'));
      writeFileSync(
        path.join(cfgDir, 'shipgate.yml'),
        [
          'version: 1',
          'services:',
          '  api:',
          '    command: [node, api.mjs]',
          'calendar:',
          "  closures: ['2026-03-10']",
          '  freezes:',
          "    - { from: '2026-12-21', to: '2027-01-03', reason: 'year-end freeze' }",
          'environments:',
          '  production:',
          '    window: { mondayMorningUntil: null }',
          '  staging: {}',
          '  lab:',
          '    window: { enforce: false }',
          '',
        ].join('\n'),
      );
    });
    afterAll(() => {
      if (cfgDir) rmSync(cfgDir, { recursive: true, force: true });
    });

    it("uses the environment's window, or the default when it has none", async () => {
      const at = ['--at', '2026-11-23T08:00:00-05:00', '--json'];
      const prod = await shipgate(['window', 'check', '--env', 'production', ...at], { cwd: cfgDir });
      expect(prod.code, prod.stderr).toBe(0);
      expect(prod.json()).toMatchObject({ open: true, policy: 'environments.production.window' });
      const staging = await shipgate(['window', 'check', '--env', 'staging', ...at], { cwd: cfgDir });
      expect(staging.code, staging.stderr).toBe(3);
      expect(staging.json()).toMatchObject({ open: false, rule: 'monday-morning', policy: 'default policy (environments.staging has no window)' });
      const lab = await shipgate(['window', 'check', '--env', 'lab', ...at], { cwd: cfgDir });
      expect(lab.code, lab.stderr).toBe(0);
      expect(lab.json()).toMatchObject({ open: true, enforced: false, rule: 'monday-morning' });
    });

    it('applies calendar closures and freezes', async () => {
      const closure = await shipgate(['window', 'check', '--at', '2026-03-10T10:00:00-04:00', '--json'], { cwd: cfgDir });
      expect(closure.code, closure.stderr).toBe(0);
      expect(closure.json()).toMatchObject({ open: true, rule: 'closure' });
      const freeze = await shipgate(['window', 'check', '--at', '2026-12-26T10:00:00-05:00', '--json'], { cwd: cfgDir });
      expect(freeze.code, freeze.stderr).toBe(3);
      expect(freeze.json()).toMatchObject({ open: false, reason: 'change freeze: year-end freeze', nextOpen: '2027-01-04T16:00:00-05:00' });
    });

    it('an unknown --env is bad input', async () => {
      const r = await shipgate(['window', 'check', '--env', 'nope', '--at', '2026-11-24T10:00:00-05:00'], { cwd: cfgDir });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('unknown environment "nope"');
    });
  });
});
