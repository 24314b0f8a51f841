/**
 * America/New_York as a luxon zone that never touches Intl. luxon's own IANA zone asks
 * Intl.DateTimeFormat for every offset, and a process's first Intl.DateTimeFormat loads ICU's locale
 * data: 12-20 ms of CPU, as much as all of Node's own start-up on Node 24 (issue 15), for a window
 * check that needs nothing but New York's UTC offset. The offset comes instead from Date, with the
 * TZ variable set to New York for the call (Node documents setting process.env.TZ at run time);
 * Date reads the same time-zone database as Intl. Fails closed: if this runtime does not apply TZ
 * (an unknown zone silently becomes UTC), every offset comes from luxon's IANA zone.
 */
import { IANAZone, Zone, type ZoneOffsetFormat, type ZoneOffsetOptions } from 'luxon';

export const NEW_YORK = 'America/New_York';

/** Offset in minutes (UTC-5 is -300) of New York at `ts`, through Date and TZ. */
function offsetByTz(ts: number): number {
  const saved = process.env.TZ;
  if (saved === NEW_YORK) return -new Date(ts).getTimezoneOffset();
  process.env.TZ = NEW_YORK;
  try {
    return -new Date(ts).getTimezoneOffset();
  } finally {
    if (saved === undefined) delete process.env.TZ;
    else process.env.TZ = saved;
  }
}

// Standard time in January, daylight time in July: anything else means TZ was not applied.
const tzWorks = (): boolean => offsetByTz(Date.UTC(2021, 0, 15, 12)) === -300 && offsetByTz(Date.UTC(2021, 6, 15, 12)) === -240;

export class NewYorkZone extends Zone {
  readonly #offsets = new Map<number, number>();
  #byTz: boolean | undefined;

  override get type(): string {
    return 'new-york';
  }
  override get name(): string {
    return NEW_YORK;
  }
  get ianaName(): string {
    return NEW_YORK;
  }
  override get isUniversal(): boolean {
    return false;
  }
  override get isValid(): boolean {
    return true;
  }
  override offsetName(ts: number, opts: ZoneOffsetOptions): string | null {
    return IANAZone.create(NEW_YORK).offsetName(ts, opts);
  }
  override formatOffset(ts: number, format: ZoneOffsetFormat): string {
    const o = this.offset(ts);
    const sign = o < 0 ? '-' : '+';
    const hours = Math.trunc(Math.abs(o) / 60);
    const minutes = Math.abs(o) % 60;
    const hh = String(hours).padStart(2, '0');
    const mm = String(minutes).padStart(2, '0');
    if (format === 'narrow') return `${sign}${hours}${minutes > 0 ? `:${minutes}` : ''}`;
    return format === 'techie' ? `${sign}${hh}${mm}` : `${sign}${hh}:${mm}`;
  }
  override offset(ts: number): number {
    let o = this.#offsets.get(ts);
    if (o === undefined) {
      this.#byTz ??= tzWorks();
      o = this.#byTz ? offsetByTz(ts) : IANAZone.create(NEW_YORK).offset(ts);
      this.#offsets.set(ts, o);
    }
    return o;
  }
  override equals(other: Zone): boolean {
    return other.type === this.type && other.name === this.name;
  }
}

/** The one New York zone, and the locale every DateTime of the window uses (a missing one makes luxon ask Intl for the system's). */
export const newYork = new NewYorkZone();
export const LOCALE = 'en-US';
