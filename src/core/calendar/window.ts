/**
 * The deployment window (seed: deploy outside market hours, avoid Monday mornings).
 *
 * Pure: the instant to judge is passed in; every local computation is done by luxon in
 * America/New_York, so inputs in any offset, on either side of a DST change, get the same answer.
 *
 * Closed (deploys refused):
 *  - during a change freeze (calendar.freezes, [from, to));
 *  - on a trading Monday before `mondayMorningUntil` New York time (default 12:00; null disables),
 *    including 00:00-09:30, which is outside the session;
 *  - during the regular session of a trading day, [09:30, close) with close 16:00, or 13:00 on
 *    early-close days.
 * Open: weekends, NYSE holidays, ad hoc closures (calendar.closures) and every other time outside
 * the regular session (from the close until 09:30 on the next trading day).
 */
import { DateTime } from 'luxon';
import { badInput } from '../errors.js';
import { LOCALE, NEW_YORK, newYork } from './new-york-zone.js';
import { dayOfWeek, dayStatus, formatDate, weekdayName, type CivilDate, type DayStatus, type Session } from './nyse.js';

export { NEW_YORK };

export interface WindowPolicy {
  /** false: the window is reported but never refuses. */
  enforce: boolean;
  /** HH:MM New York time; on trading Mondays deploys are refused before it. null disables the rule. */
  mondayMorningUntil: string | null;
}

export const DEFAULT_WINDOW_POLICY: Readonly<WindowPolicy> = Object.freeze({ enforce: true, mondayMorningUntil: '12:00' });

export interface Freeze {
  /** ISO-8601; a bare date is 00:00 New York time, a time without offset is New York time. */
  from: string;
  /** ISO-8601, exclusive; a bare date means the END of that day (inclusive day), i.e. 00:00 of the next. */
  to: string;
  reason: string;
}

export interface CalendarConfig {
  /** Ad hoc full-day market closures, YYYY-MM-DD; they behave like holidays. */
  closures: readonly string[];
  freezes: readonly Freeze[];
}

export const EMPTY_CALENDAR: Readonly<CalendarConfig> = Object.freeze({ closures: [], freezes: [] });

export type WindowRule =
  | 'freeze'
  | 'monday-morning'
  | 'session'
  | 'outside-session'
  | 'weekend'
  | 'holiday'
  | 'closure';

export interface WindowDecision {
  /** May a deploy start now? (Always true when the policy is not enforced.) */
  open: boolean;
  /** One human sentence: why it is open or closed. */
  reason: string;
  /** The rule that decided (when not enforced: the rule that would have decided). */
  rule: WindowRule;
  /** The next instant the window opens (ISO-8601 with the New York offset); null when open. */
  nextOpen: string | null;
  /** The instant judged, in New York time (ISO-8601 with offset). */
  at: string;
  timezone: typeof NEW_YORK;
  enforced: boolean;
  /** The regular session of the New York day of `at`, when that day is a trading day. */
  session?: Session;
  /** The freeze in force at `at`, if any. */
  freeze?: { from: string; to: string; reason: string };
}

export interface ParsedFreeze {
  from: DateTime;
  to: DateTime;
  reason: string;
}

type Verdict =
  | { open: true; rule: WindowRule; reason: string }
  | { open: false; rule: WindowRule; reason: string; until: DateTime; freeze?: ParsedFreeze };

const ISO_EXAMPLE = '2026-11-24T10:00:00-05:00';

/**
 * Parses an ISO-8601 instant. With an offset (or Z) it is that instant; without one it is read as
 * New York local time; a bare date is 00:00 New York time. Undefined when it is not ISO-8601.
 */
export function parseInstant(text: string): Date | undefined {
  const dt = fromIso(text);
  return dt?.toJSDate();
}

/**
 * luxon's ISO parser, but only for texts that start with a date: a bare time ("10:00") would be
 * read as today's, which depends on the clock (core is pure).
 */
function fromIso(text: string): DateTime | undefined {
  const trimmed = text.trim();
  if (!/^\d{4}-/.test(trimmed)) return undefined;
  const dt = DateTime.fromISO(trimmed, { zone: newYork, locale: LOCALE });
  return dt.isValid ? dt : undefined;
}

/** ISO-8601 with the New York offset, e.g. 2026-11-23T16:00:00-05:00. */
export function toNewYorkIso(at: Date): string {
  return iso(DateTime.fromMillis(at.getTime(), { zone: newYork, locale: LOCALE }));
}

function iso(dt: DateTime): string {
  return dt.setZone(newYork).toISO({ suppressMilliseconds: true })!;
}

function parseClock(text: string, where: string): { hour: number; minute: number } {
  const m = /^(\d{2}):(\d{2})$/.exec(text);
  const hour = Number(m?.[1]);
  const minute = Number(m?.[2]);
  if (!m || hour > 23 || minute > 59) {
    throw badInput(`${where} must be a New York time HH:MM between 00:00 and 23:59, got ${JSON.stringify(text)}`, {
      where,
      hint: 'For example mondayMorningUntil: "12:00"; use null to disable the Monday-morning rule.',
    });
  }
  return { hour, minute };
}

function parseFreezeBound(text: string, end: boolean, where: string): DateTime {
  const trimmed = text.trim();
  const dt = fromIso(trimmed);
  if (!dt) {
    throw badInput(`${where} is not an ISO-8601 date or time: ${JSON.stringify(text)}`, {
      where,
      hint: `Write a date (2026-12-21) or a time with an offset (${ISO_EXAMPLE}); times without an offset are New York time.`,
    });
  }
  // A bare date as the end of a freeze includes that whole day.
  return end && /^\d{4}-\d{2}-\d{2}$/.test(trimmed) ? dt.plus({ days: 1 }) : dt;
}

export function parseFreezes(freezes: readonly Freeze[]): ParsedFreeze[] {
  return freezes.map((f, i) => {
    const from = parseFreezeBound(f.from, false, `calendar.freezes[${i}].from`);
    const to = parseFreezeBound(f.to, true, `calendar.freezes[${i}].to`);
    if (to <= from) {
      throw badInput(`calendar.freezes[${i}] ends (${f.to}) before it starts (${f.from})`, {
        where: `calendar.freezes[${i}]`,
        hint: 'Swap from and to, or correct the dates.',
      });
    }
    return { from, to, reason: f.reason };
  });
}

const civil = (dt: DateTime): CivilDate => ({ y: dt.year, m: dt.month, d: dt.day });

const label = (date: CivilDate) => `${weekdayName(date)} ${formatDate(date)}`;

function localTime(date: CivilDate, clock: string): DateTime {
  const [hour, minute] = clock.split(':').map(Number) as [number, number];
  return DateTime.fromObject({ year: date.y, month: date.m, day: date.d, hour, minute }, { zone: newYork, locale: LOCALE });
}

function sessionText(s: Session): string {
  return s.earlyClose ? `${s.open}–${s.close} ET (early close: ${s.earlyClose})` : `${s.open}–${s.close} ET`;
}

/** The verdict at one instant, ignoring `enforce`. */
function evaluate(t: DateTime, policy: WindowPolicy, closures: readonly string[], freezes: readonly ParsedFreeze[]): Verdict {
  const freeze = freezes.find((f) => f.from <= t && t < f.to);
  if (freeze) return { open: false, rule: 'freeze', reason: `change freeze: ${freeze.reason}`, until: freeze.to, freeze };

  const local = t.setZone(newYork);
  const date = civil(local);
  const status: DayStatus = dayStatus(date, closures);
  switch (status.kind) {
    case 'weekend':
      return { open: true, rule: 'weekend', reason: `weekend: ${label(date)} (NYSE closed)` };
    case 'holiday': {
      const h = status.holiday;
      return { open: true, rule: 'holiday', reason: h.observed ? `${h.name}, observed on ${label(date)} (NYSE closed)` : `${h.name} (NYSE closed)` };
    }
    case 'closure':
      return { open: true, rule: 'closure', reason: `ad hoc market closure on ${label(date)} (calendar.closures; NYSE closed)` };
    case 'trading': {
      const s = status.session;
      if (policy.mondayMorningUntil !== null && dayOfWeek(date) === 1) {
        const until = localTime(date, policy.mondayMorningUntil);
        if (local < until) {
          return { open: false, rule: 'monday-morning', reason: `Monday morning before ${policy.mondayMorningUntil} ET (seed: avoid Monday mornings)`, until };
        }
      }
      const openAt = localTime(date, s.open);
      const closeAt = localTime(date, s.close);
      if (local >= openAt && local < closeAt) {
        return { open: false, rule: 'session', reason: `regular session ${sessionText(s)} on ${label(date)}`, until: closeAt };
      }
      return local < openAt
        ? { open: true, rule: 'outside-session', reason: `outside the regular session: before the ${s.open} ET open on ${label(date)}` }
        : { open: true, rule: 'outside-session', reason: `outside the regular session: after the ${s.close} ET ${s.earlyClose ? `early close (${s.earlyClose})` : 'close'} on ${label(date)}` };
    }
  }
}

/**
 * Is the deployment window open at `at`? When closed, `nextOpen` is the first instant at or after
 * `at` when it opens. Throws bad input (exit 2) for an invalid `at`, policy or calendar.
 */
export function checkWindow(at: Date, policy: WindowPolicy = DEFAULT_WINDOW_POLICY, calendar: CalendarConfig = EMPTY_CALENDAR): WindowDecision {
  if (Number.isNaN(at.getTime())) throw badInput('the time to check is not a valid date', { hint: `Give an ISO-8601 time, e.g. ${ISO_EXAMPLE}.` });
  if (policy.mondayMorningUntil !== null) parseClock(policy.mondayMorningUntil, 'window.mondayMorningUntil');
  const freezes = parseFreezes(calendar.freezes);
  const t0 = DateTime.fromMillis(at.getTime(), { zone: newYork, locale: LOCALE });

  const first = evaluate(t0, policy, calendar.closures, freezes);
  const session = dayStatus(civil(t0), calendar.closures);
  const base = {
    rule: first.rule,
    at: iso(t0),
    timezone: NEW_YORK,
    enforced: policy.enforce,
    ...(session.kind === 'trading' ? { session: session.session } : {}),
    ...(!first.open && first.freeze ? { freeze: { from: iso(first.freeze.from), to: iso(first.freeze.to), reason: first.freeze.reason } } : {}),
  } as const;

  if (first.open) return { open: true, reason: first.reason, nextOpen: null, ...base };
  if (!policy.enforce) {
    return { open: true, reason: `window not enforced (window.enforce: false); otherwise refused: ${first.reason}`, nextOpen: null, ...base };
  }

  // Walk from one closed stretch to its end until an open instant; every step moves forward.
  let until = first.until;
  for (let steps = 0; ; steps++) {
    if (steps > 10_000) throw new Error('deployment window: no opening found (calendar loop)');
    const next = evaluate(until, policy, calendar.closures, freezes);
    if (next.open) break;
    until = next.until;
  }
  return { open: false, reason: first.reason, nextOpen: iso(until), ...base };
}
