// The NYSE calendar (src/core/calendar/nyse.ts) against NYSE Group's published holiday tables.
import { describe, expect, it } from 'vitest';
import {
  addDays,
  dayOfWeek,
  dayStatus,
  earlyCloseReason,
  easterSunday,
  formatDate,
  holidayName,
  isTradingDay,
  nyseEarlyCloses,
  nyseHolidays,
  parseDate,
  sessionFor,
  type CivilDate,
} from '../src/core/calendar/nyse.js';

const date = (s: string): CivilDate => {
  const d = parseDate(s);
  if (!d) throw new Error(`bad fixture date ${s}`);
  return d;
};

/**
 * Published by NYSE Group, "NYSE Group Announces 2026, 2027 and 2028 Holiday and Early Closings
 * Calendar" (press release of 2025-12-23; reproduced at
 * https://mondovisione.com/media-and-resources/news/nyse-group-announces-2026-2027-and-2028-holiday-and-early-closings-calendar-20251223/).
 * Notes from that table: 2026 July 3 is "Independence Day observed"; 2027 June 18, July 5 and
 * December 24 are observed holidays; 2028: "Because the holiday falls on Saturday, January 1, 2028,
 * no New Year's Day holiday is observed." Early closes at 1:00 p.m.: Thursday December 24 2026
 * (footnote ****), the days after Thanksgiving (Nov 27 2026, Nov 26 2027, Nov 24 2028) and Monday
 * July 3 2028. The rules in nyse.ts produce exactly this table (no table-over-rule exceptions needed).
 */
const PUBLISHED: Record<number, { holidays: Record<string, string>; earlyCloses: Record<string, string> }> = {
  2026: {
    holidays: {
      '2026-01-01': "New Year's Day",
      '2026-01-19': 'Martin Luther King, Jr. Day',
      '2026-02-16': "Washington's Birthday",
      '2026-04-03': 'Good Friday',
      '2026-05-25': 'Memorial Day',
      '2026-06-19': 'Juneteenth National Independence Day',
      '2026-07-03': 'Independence Day (observed)',
      '2026-09-07': 'Labor Day',
      '2026-11-26': 'Thanksgiving Day',
      '2026-12-25': 'Christmas Day',
    },
    earlyCloses: { '2026-11-27': 'day after Thanksgiving', '2026-12-24': 'Christmas Eve' },
  },
  2027: {
    holidays: {
      '2027-01-01': "New Year's Day",
      '2027-01-18': 'Martin Luther King, Jr. Day',
      '2027-02-15': "Washington's Birthday",
      '2027-03-26': 'Good Friday',
      '2027-05-31': 'Memorial Day',
      '2027-06-18': 'Juneteenth National Independence Day (observed)',
      '2027-07-05': 'Independence Day (observed)',
      '2027-09-06': 'Labor Day',
      '2027-11-25': 'Thanksgiving Day',
      '2027-12-24': 'Christmas Day (observed)',
    },
    earlyCloses: { '2027-11-26': 'day after Thanksgiving' },
  },
  2028: {
    holidays: {
      // No New Year's Day holiday: January 1, 2028 is a Saturday.
      '2028-01-17': 'Martin Luther King, Jr. Day',
      '2028-02-21': "Washington's Birthday",
      '2028-04-14': 'Good Friday',
      '2028-05-29': 'Memorial Day',
      '2028-06-19': 'Juneteenth National Independence Day',
      '2028-07-04': 'Independence Day',
      '2028-09-04': 'Labor Day',
      '2028-11-23': 'Thanksgiving Day',
      '2028-12-25': 'Christmas Day',
    },
    earlyCloses: { '2028-07-03': 'day before Independence Day', '2028-11-24': 'day after Thanksgiving' },
  },
};

/**
 * Earlier NYSE Group tables, same press-release series ("...2022, 2023 and 2024..." of 2021-12-27 and
 * "...2025, 2026 and 2027..." of 2024-11-08, reproduced on mondovisione.com): more observance cases.
 */
const EARLIER: Record<number, { holidays: string[]; earlyCloses: string[] }> = {
  // New Year's Day 2022 (Saturday) not observed; Juneteenth (Sunday) observed Monday June 20; Christmas (Sunday) Monday December 26.
  2022: { holidays: ['2022-01-17', '2022-02-21', '2022-04-15', '2022-05-30', '2022-06-20', '2022-07-04', '2022-09-05', '2022-11-24', '2022-12-26'], earlyCloses: ['2022-11-25'] },
  // New Year's Day (Sunday) observed Monday January 2.
  2023: { holidays: ['2023-01-02', '2023-01-16', '2023-02-20', '2023-04-07', '2023-05-29', '2023-06-19', '2023-07-04', '2023-09-04', '2023-11-23', '2023-12-25'], earlyCloses: ['2023-07-03', '2023-11-24'] },
  2024: { holidays: ['2024-01-01', '2024-01-15', '2024-02-19', '2024-03-29', '2024-05-27', '2024-06-19', '2024-07-04', '2024-09-02', '2024-11-28', '2024-12-25'], earlyCloses: ['2024-07-03', '2024-11-29', '2024-12-24'] },
  2025: { holidays: ['2025-01-01', '2025-01-20', '2025-02-17', '2025-04-18', '2025-05-26', '2025-06-19', '2025-07-04', '2025-09-01', '2025-11-27', '2025-12-25'], earlyCloses: ['2025-07-03', '2025-11-28', '2025-12-24'] },
};

describe('NYSE 2026-2028: the published table', () => {
  for (const [yearText, table] of Object.entries(PUBLISHED)) {
    const year = Number(yearText);

    it(`${year}: exactly the published holidays, with their names`, () => {
      expect(nyseHolidays(year).map((h) => formatDate(h.date))).toEqual(Object.keys(table.holidays));
      for (const [day, name] of Object.entries(table.holidays)) {
        expect(isTradingDay(date(day)), day).toBe(false);
        expect(sessionFor(date(day)), day).toBeUndefined();
        expect(holidayName(date(day)), day).toBe(name);
        expect(dayStatus(date(day)).kind, day).toBe('holiday');
      }
    });

    it(`${year}: exactly the published 13:00 early closes`, () => {
      expect(nyseEarlyCloses(year).map((s) => s.date)).toEqual(Object.keys(table.earlyCloses));
      for (const [day, why] of Object.entries(table.earlyCloses)) {
        expect(isTradingDay(date(day)), day).toBe(true);
        expect(sessionFor(date(day)), day).toEqual({ date: day, open: '09:30', close: '13:00', earlyClose: why });
      }
    });

    it(`${year}: every other weekday is a full 09:30-16:00 session, every weekend day closed`, () => {
      let trading = 0;
      for (let d = { y: year, m: 1, d: 1 }; d.y === year; d = addDays(d, 1)) {
        const key = formatDate(d);
        const weekend = dayOfWeek(d) === 0 || dayOfWeek(d) === 6;
        const session = sessionFor(d);
        if (weekend) {
          expect(session, key).toBeUndefined();
          expect(dayStatus(d).kind, key).toBe('weekend');
          expect(holidayName(d), key).toBeUndefined();
        } else if (key in table.holidays) {
          expect(session, key).toBeUndefined();
        } else if (key in table.earlyCloses) {
          expect(session?.close, key).toBe('13:00');
          trading++;
        } else {
          expect(session, key).toEqual({ date: key, open: '09:30', close: '16:00' });
          trading++;
        }
      }
      // 2026 and 2027: 261 weekdays - 10 holidays; 2028: 260 weekdays - 9 holidays (no New Year's Day).
      expect(trading).toBe(251);
    });
  }
});

describe('NYSE 2022-2025: earlier published tables', () => {
  for (const [yearText, table] of Object.entries(EARLIER)) {
    const year = Number(yearText);
    it(`${year}: holidays and early closes`, () => {
      expect(nyseHolidays(year).map((h) => formatDate(h.date))).toEqual(table.holidays);
      expect(nyseEarlyCloses(year).map((s) => s.date)).toEqual(table.earlyCloses);
    });
  }
});

describe('observance (NYSE Rule 7.2)', () => {
  it('a Saturday holiday closes the Friday before', () => {
    expect(dayOfWeek(date('2026-07-04'))).toBe(6);
    expect(isTradingDay(date('2026-07-04'))).toBe(false); // weekend anyway
    expect(holidayName(date('2026-07-03'))).toBe('Independence Day (observed)');
    expect(holidayName(date('2027-12-24'))).toBe('Christmas Day (observed)');
    expect(holidayName(date('2027-06-18'))).toBe('Juneteenth National Independence Day (observed)');
    expect(holidayName(date('2020-07-03'))).toBe('Independence Day (observed)');
    expect(holidayName(date('2021-12-24'))).toBe('Christmas Day (observed)');
  });

  it('a Sunday holiday closes the Monday after', () => {
    expect(holidayName(date('2027-07-05'))).toBe('Independence Day (observed)');
    expect(holidayName(date('2023-01-02'))).toBe("New Year's Day (observed)");
    expect(holidayName(date('2022-06-20'))).toBe('Juneteenth National Independence Day (observed)');
    expect(holidayName(date('2022-12-26'))).toBe('Christmas Day (observed)');
    expect(holidayName(date('2021-07-05'))).toBe('Independence Day (observed)');
  });

  it("New Year's Day on a Saturday is not observed: Friday December 31 is a full trading day", () => {
    expect(dayOfWeek(date('2022-01-01'))).toBe(6);
    expect(sessionFor(date('2021-12-31'))).toEqual({ date: '2021-12-31', open: '09:30', close: '16:00' });
    expect(nyseHolidays(2022).some((h) => h.name === "New Year's Day")).toBe(false);
    expect(nyseHolidays(2021).filter((h) => h.name === "New Year's Day").map((h) => formatDate(h.date))).toEqual(['2021-01-01']);

    expect(dayOfWeek(date('2028-01-01'))).toBe(6);
    expect(sessionFor(date('2027-12-31'))).toEqual({ date: '2027-12-31', open: '09:30', close: '16:00' });
    expect(nyseHolidays(2028).some((h) => h.name === "New Year's Day")).toBe(false);
    expect(isTradingDay(date('2028-01-03'))).toBe(true); // no Monday observance either
  });

  it('no early close on the day before an observed holiday or on a weekend', () => {
    // 2026: July 3 (Fri) is the holiday itself; July 2 is a full day.
    expect(sessionFor(date('2026-07-02'))?.close).toBe('16:00');
    // 2027: July 4 is a Sunday (holiday Monday July 5); Friday July 2 is a full day. Christmas Eve is the holiday.
    expect(sessionFor(date('2027-07-02'))?.close).toBe('16:00');
    expect(sessionFor(date('2027-12-23'))?.close).toBe('16:00');
    expect(earlyCloseReason(date('2027-12-24'))).toBeUndefined();
    // 2028: December 24 is a Sunday; Friday December 22 is a full day.
    expect(sessionFor(date('2028-12-22'))?.close).toBe('16:00');
    // 2022: July 4 was a Monday; July 1 was a full day.
    expect(sessionFor(date('2022-07-01'))?.close).toBe('16:00');
  });
});

describe('Juneteenth', () => {
  it('is a holiday only from 2022 on', () => {
    expect(isTradingDay(date('2020-06-19'))).toBe(true); // Friday
    expect(isTradingDay(date('2021-06-18'))).toBe(true); // Friday before Saturday June 19 2021: no observance
    expect(nyseHolidays(2021).some((h) => h.name.startsWith('Juneteenth'))).toBe(false);
    expect(isTradingDay(date('2022-06-20'))).toBe(false);
    expect(isTradingDay(date('2024-06-19'))).toBe(false);
  });
});

describe('Easter (anonymous Gregorian computus)', () => {
  it.each([
    [2000, '2000-04-23'],
    [2008, '2008-03-23'],
    [2019, '2019-04-21'],
    [2024, '2024-03-31'],
    [2025, '2025-04-20'],
    [2026, '2026-04-05'],
    [2027, '2027-03-28'],
    [2028, '2028-04-16'],
    [2038, '2038-04-25'],
    [2285, '2285-03-22'],
  ])('%i: %s', (year, sunday) => {
    expect(formatDate(easterSunday(year))).toBe(sunday);
  });
});

describe('ad hoc closures', () => {
  it('close an otherwise normal trading day', () => {
    // 2025-01-09: NYSE closed for the national day of mourning for President Carter (not a rule holiday).
    expect(isTradingDay(date('2025-01-09'))).toBe(true);
    expect(isTradingDay(date('2025-01-09'), ['2025-01-09'])).toBe(false);
    expect(dayStatus(date('2025-01-09'), ['2025-01-09'])).toEqual({ kind: 'closure' });
    expect(sessionFor(date('2026-11-27'), ['2026-11-27'])).toBeUndefined();
    expect(nyseEarlyCloses(2026, ['2026-11-27']).map((s) => s.date)).toEqual(['2026-12-24']);
  });

  it('parseDate accepts only real YYYY-MM-DD days', () => {
    expect(parseDate('2026-02-29')).toBeUndefined();
    expect(parseDate('2028-02-29')).toEqual({ y: 2028, m: 2, d: 29 });
    expect(parseDate('2026-13-01')).toBeUndefined();
    expect(parseDate('26-01-01')).toBeUndefined();
  });
});
