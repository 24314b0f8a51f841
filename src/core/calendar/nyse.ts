/**
 * The NYSE trading calendar: which days the exchange is open and when it closes (America/New_York).
 *
 * Pure date arithmetic on civil dates (no clock, no time zone): a date is `{ y, m, d }` with m 1-12.
 * Rules (NYSE Rule 7.2 and NYSE Group's published holiday calendars):
 *
 * - Holidays: New Year's Day; Martin Luther King, Jr. Day (3rd Monday of January, from 1998);
 *   Washington's Birthday (3rd Monday of February); Good Friday (Easter by the anonymous Gregorian
 *   computus); Memorial Day (last Monday of May); Juneteenth National Independence Day (June 19,
 *   from 2022); Independence Day (July 4); Labor Day (1st Monday of September); Thanksgiving Day
 *   (4th Thursday of November); Christmas Day (December 25).
 * - Observance: a holiday on a Saturday closes the preceding Friday, one on a Sunday the following
 *   Monday. Exception: New Year's Day on a Saturday is not observed at all (Friday December 31
 *   stays a full trading day, as in 2021/2022 and 2027/2028).
 * - Early closes at 13:00: the day after Thanksgiving; December 24 when it is a Monday-Thursday
 *   (a Friday December 24 is the observed Christmas holiday); July 3 when it is a Monday-Thursday
 *   (then July 4 is a Tuesday-Friday holiday; a Friday July 3 is the observed Independence Day).
 *
 * Checked against NYSE's published 2026-2028 table (see test/calendar.test.ts); they agree.
 * Not built in: one-off closures (national days of mourning, weather, ...): pass them as
 * `closures` (calendar.closures in shipgate.yml).
 */

export interface CivilDate {
  y: number;
  /** 1-12 */
  m: number;
  /** 1-31 */
  d: number;
}

export interface Holiday {
  /** The day the exchange is closed. */
  date: CivilDate;
  /** e.g. "Independence Day" (without "observed"). */
  name: string;
  /** True when the holiday falls on a weekend and is observed on `date` instead. */
  observed: boolean;
}

export interface Session {
  /** YYYY-MM-DD */
  date: string;
  open: '09:30';
  close: '16:00' | '13:00';
  /** Why the session ends at 13:00, e.g. "day after Thanksgiving". */
  earlyClose?: string;
}

export type DayStatus =
  | { kind: 'trading'; session: Session }
  | { kind: 'weekend' }
  | { kind: 'holiday'; holiday: Holiday }
  | { kind: 'closure' };

export const REGULAR_OPEN = '09:30';
export const REGULAR_CLOSE = '16:00';
export const EARLY_CLOSE = '13:00';

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] as const;

/** 0 = Sunday ... 6 = Saturday. */
export function dayOfWeek(date: CivilDate): number {
  return new Date(Date.UTC(date.y, date.m - 1, date.d)).getUTCDay();
}

export function weekdayName(date: CivilDate): string {
  return WEEKDAYS[dayOfWeek(date)]!;
}

export function addDays(date: CivilDate, days: number): CivilDate {
  const t = new Date(Date.UTC(date.y, date.m - 1, date.d + days));
  return { y: t.getUTCFullYear(), m: t.getUTCMonth() + 1, d: t.getUTCDate() };
}

export function formatDate(date: CivilDate): string {
  return `${String(date.y).padStart(4, '0')}-${String(date.m).padStart(2, '0')}-${String(date.d).padStart(2, '0')}`;
}

/** Parses YYYY-MM-DD; undefined unless it names a real calendar day. */
export function parseDate(text: string): CivilDate | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!m) return undefined;
  const date = { y: Number(m[1]), m: Number(m[2]), d: Number(m[3]) };
  return sameDate(addDays(date, 0), date) ? date : undefined;
}

export function sameDate(a: CivilDate, b: CivilDate): boolean {
  return a.y === b.y && a.m === b.m && a.d === b.d;
}

/** Easter Sunday (Gregorian), by the anonymous Gregorian algorithm (Meeus/Jones/Butcher). */
export function easterSunday(year: number): CivilDate {
  const a = year % 19;
  const b = Math.floor(year / 100);
  const c = year % 100;
  const d = Math.floor(b / 4);
  const e = b % 4;
  const f = Math.floor((b + 8) / 25);
  const g = Math.floor((b - f + 1) / 3);
  const h = (19 * a + b - d - g + 15) % 30;
  const i = Math.floor(c / 4);
  const k = c % 4;
  const l = (32 + 2 * e + 2 * i - h - k) % 7;
  const m = Math.floor((a + 11 * h + 22 * l) / 451);
  const month = Math.floor((h + l - 7 * m + 114) / 31);
  const day = ((h + l - 7 * m + 114) % 31) + 1;
  return { y: year, m: month, d: day };
}

/** The n-th (1-based) `weekday` (0 = Sunday) of a month. */
function nthWeekday(year: number, month: number, weekday: number, n: number): CivilDate {
  const first = { y: year, m: month, d: 1 };
  const offset = (weekday - dayOfWeek(first) + 7) % 7;
  return { y: year, m: month, d: 1 + offset + 7 * (n - 1) };
}

function lastWeekday(year: number, month: number, weekday: number): CivilDate {
  // Day 0 of the next month is the last day of this one.
  const lastOfMonth = { y: year, m: month, d: new Date(Date.UTC(year, month, 0)).getUTCDate() };
  const back = (dayOfWeek(lastOfMonth) - weekday + 7) % 7;
  return addDays(lastOfMonth, -back);
}

/** A fixed-date holiday moved off the weekend by Rule 7.2; undefined when it is not observed. */
function fixed(year: number, month: number, day: number, name: string, observeSaturday = true): Holiday | undefined {
  const actual = { y: year, m: month, d: day };
  const dow = dayOfWeek(actual);
  if (dow === 6) return observeSaturday ? { date: addDays(actual, -1), name, observed: true } : undefined;
  if (dow === 0) return { date: addDays(actual, 1), name, observed: true };
  return { date: actual, name, observed: false };
}

// YYYY-MM-DD texts sort as dates. Not localeCompare: its first call loads ICU's collation data (issue 15).
const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Every day of `year` on which NYSE is closed for a holiday, in date order. */
export function nyseHolidays(year: number): Holiday[] {
  const list: (Holiday | undefined)[] = [
    // Rule 7.2: New Year's Day on a Saturday is not observed (the Friday is the last day of the year's books).
    fixed(year, 1, 1, "New Year's Day", false),
    year >= 1998 ? { date: nthWeekday(year, 1, 1, 3), name: 'Martin Luther King, Jr. Day', observed: false } : undefined,
    { date: nthWeekday(year, 2, 1, 3), name: "Washington's Birthday", observed: false },
    { date: addDays(easterSunday(year), -2), name: 'Good Friday', observed: false },
    { date: lastWeekday(year, 5, 1), name: 'Memorial Day', observed: false },
    year >= 2022 ? fixed(year, 6, 19, 'Juneteenth National Independence Day') : undefined,
    fixed(year, 7, 4, 'Independence Day'),
    { date: nthWeekday(year, 9, 1, 1), name: 'Labor Day', observed: false },
    { date: nthWeekday(year, 11, 4, 4), name: 'Thanksgiving Day', observed: false },
    fixed(year, 12, 25, 'Christmas Day'),
  ];
  return list
    .filter((h): h is Holiday => h !== undefined)
    .sort((a, b) => byText(formatDate(a.date), formatDate(b.date)));
}

/** The NYSE holiday on `date`, if any (weekends are not holidays). */
export function holidayOn(date: CivilDate): Holiday | undefined {
  return nyseHolidays(date.y).find((h) => sameDate(h.date, date));
}

/** e.g. "Thanksgiving Day" or "Independence Day (observed)"; undefined on other days. */
export function holidayName(date: CivilDate): string | undefined {
  const h = holidayOn(date);
  return h && (h.observed ? `${h.name} (observed)` : h.name);
}

/** Why `date` closes at 13:00, or undefined for a full day (only meaningful on trading days). */
export function earlyCloseReason(date: CivilDate): string | undefined {
  const dow = dayOfWeek(date);
  const thanksgiving = nthWeekday(date.y, 11, 4, 4);
  if (sameDate(date, addDays(thanksgiving, 1))) return 'day after Thanksgiving';
  // Monday-Thursday only: a Friday July 3 / December 24 is itself the observed holiday.
  if (date.m === 7 && date.d === 3 && dow >= 1 && dow <= 4) return 'day before Independence Day';
  if (date.m === 12 && date.d === 24 && dow >= 1 && dow <= 4) return 'Christmas Eve';
  return undefined;
}

function isClosure(date: CivilDate, closures: readonly string[]): boolean {
  const key = formatDate(date);
  return closures.includes(key);
}

/** What kind of day `date` is for NYSE; `closures` are extra full-day closures (YYYY-MM-DD). */
export function dayStatus(date: CivilDate, closures: readonly string[] = []): DayStatus {
  const dow = dayOfWeek(date);
  if (dow === 0 || dow === 6) return { kind: 'weekend' };
  const holiday = holidayOn(date);
  if (holiday) return { kind: 'holiday', holiday };
  if (isClosure(date, closures)) return { kind: 'closure' };
  const early = earlyCloseReason(date);
  const session: Session = early
    ? { date: formatDate(date), open: REGULAR_OPEN, close: EARLY_CLOSE, earlyClose: early }
    : { date: formatDate(date), open: REGULAR_OPEN, close: REGULAR_CLOSE };
  return { kind: 'trading', session };
}

export function isTradingDay(date: CivilDate, closures: readonly string[] = []): boolean {
  return dayStatus(date, closures).kind === 'trading';
}

/** The regular session of `date` (09:30 to 16:00, or 13:00 on early-close days); undefined when NYSE is closed. */
export function sessionFor(date: CivilDate, closures: readonly string[] = []): Session | undefined {
  const s = dayStatus(date, closures);
  return s.kind === 'trading' ? s.session : undefined;
}

/** Every 13:00 early close of `year` that is a trading day, in date order. */
export function nyseEarlyCloses(year: number, closures: readonly string[] = []): Session[] {
  const candidates = [addDays(nthWeekday(year, 11, 4, 4), 1), { y: year, m: 7, d: 3 }, { y: year, m: 12, d: 24 }];
  return candidates
    .map((d) => sessionFor(d, closures))
    .filter((s): s is Session => s !== undefined && s.earlyClose !== undefined)
    .sort((a, b) => byText(a.date, b.date));
}
