/**
 * The platform's safety state (circuit breaker, kill switch) as configuration: which key, which
 * JSON field, which of the platform's words mean trading and which mean halted. Anything else,
 * and by default a missing key, fails closed. Pure: the adapters fetch raw values, this module
 * says what they mean and which writes express a change in the platform's own format.
 */
export interface SafetyFlagSpec {
  key: string;
  /** One field of a JSON object stored at `key`; without it the key holds a plain string. */
  field?: string | undefined;
  trading: string[];
  halted: string[];
  missing: 'halted' | 'trading';
  /** With `field`: fields of the same object; without: keys of their own (prefixed). */
  reasonField?: string | undefined;
  atField?: string | undefined;
  byField?: string | undefined;
  /** The seed's separate timestamps of the last halt and the last release. */
  haltedAtField?: string | undefined;
  resumedAtField?: string | undefined;
  /** A Redis list each change is appended to (one JSON entry per change). */
  history?: string | undefined;
  /** Set on the seed's defaults only: why a missing key reads as trading, said every time it does. */
  unconfigured?: string | undefined;
}

export type SafetyMeaning = 'trading' | 'halted' | 'unknown';

export interface FlagReading {
  key: string;
  field: string | null;
  /** The platform's own word, exactly as stored; null when the key (or field) is absent. */
  value: string | null;
  meaning: SafetyMeaning;
  /** Why the meaning is what it is, for people: "ON is halted", "absent: missing counts as halted". */
  explanation: string;
  /** The key is absent and no breaker/kill switch is configured: read with the seed's default (trading). */
  unconfigured?: string;
  /** The key holds a JSON object without `field`: the fields it has (a misnamed `field` shows here). */
  fieldsSeen?: string[];
  reason: string | null;
  at: string | null;
  by: string | null;
  haltedAt: string | null;
  resumedAt: string | null;
}

/** The seed's keys and words: cb:state OPEN/TRIPPED, killswitch:active false/true; absent means trading. */
export const SEED_BREAKER: SafetyFlagSpec = {
  key: 'cb:state', trading: ['OPEN'], halted: ['TRIPPED'], missing: 'trading',
  reasonField: 'cb:trip_reason', haltedAtField: 'cb:tripped_at', resumedAtField: 'cb:last_reset',
  unconfigured: 'no breaker configured',
};
export const SEED_KILL_SWITCH: SafetyFlagSpec = { key: 'killswitch:active', trading: ['false'], halted: ['true'], missing: 'trading', unconfigured: 'no kill switch configured' };

/** Which environment's shipgate last wrote the state (to spot state carried over from staging). */
export const LAST_WRITER_KEY = 'shipgate:last_writer';

/** The raw keys a flag is read from. */
export function flagKeys(spec: SafetyFlagSpec): string[] {
  if (spec.field) return [spec.key];
  return [spec.key, spec.reasonField, spec.atField, spec.byField, spec.haltedAtField, spec.resumedAtField].filter((k): k is string => Boolean(k));
}

type JsonObject = Record<string, unknown>;

function parseObject(raw: string): JsonObject | undefined {
  try {
    const v: unknown = JSON.parse(raw);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as JsonObject) : undefined;
  } catch {
    return undefined;
  }
}

const scalar = (v: unknown): string | null => (v === undefined || v === null ? null : typeof v === 'object' ? JSON.stringify(v) : String(v));

/** The word stored in `field` of a JSON object, or why there is none. */
export function jsonField(raw: string, field: string): { value: string | null } | { problem: string } {
  const obj = parseObject(raw);
  if (!obj) return { problem: 'not a JSON object' };
  return { value: scalar(obj[field]) };
}

/** What the raw values (from `flagKeys`) mean; never guesses: a value in neither list is unknown. */
export function interpretFlag(spec: SafetyFlagSpec, get: (key: string) => string | null): FlagReading {
  const base = { key: spec.key, field: spec.field ?? null, reason: null, at: null, by: null, haltedAt: null, resumedAt: null };
  let value: string | null;
  let extra: (string | null)[] = [];
  let fieldsSeen: string[] | undefined;
  if (spec.field) {
    const stored = get(spec.key);
    if (stored === null) value = null;
    else {
      const obj = parseObject(stored);
      if (!obj) return { ...base, value: stored, meaning: 'unknown', explanation: `${spec.key} is not a JSON object (field ${spec.field} expected)` };
      value = scalar(obj[spec.field]);
      if (value === null) fieldsSeen = Object.keys(obj);
      const f = (name: string | undefined) => (name ? scalar(obj[name]) : null);
      extra = [f(spec.reasonField), f(spec.atField), f(spec.byField), f(spec.haltedAtField), f(spec.resumedAtField)];
    }
  } else {
    value = get(spec.key);
    extra = [spec.reasonField, spec.atField, spec.byField, spec.haltedAtField, spec.resumedAtField].map((k) => (k ? get(k) : null));
  }
  const [reason = null, at = null, by = null, haltedAt = null, resumedAt = null] = extra;
  const where = spec.field ? `${spec.key} ${spec.field}` : spec.key;
  const meaning: SafetyMeaning = value === null ? spec.missing : spec.halted.includes(value) ? 'halted' : spec.trading.includes(value) ? 'trading' : 'unknown';
  const unconfigured = value === null && spec.unconfigured ? { unconfigured: spec.unconfigured } : {};
  const explanation =
    value === null && spec.unconfigured ? `${where} is unset, treated as ${spec.missing} (${spec.unconfigured}: the seed's default; configure trading.breaker / trading.killSwitch if the platform keeps its state elsewhere)`
    : fieldsSeen ? `${spec.key} has no field ${spec.field} (its fields: ${fieldsSeen.join(', ') || 'none'}); configured missing: ${spec.missing}`
    : value === null ? `${where} is absent; configured missing: ${spec.missing}`
    : meaning === 'unknown' ? `${where} is ${JSON.stringify(value)}, in neither trading [${spec.trading.join(', ')}] nor halted [${spec.halted.join(', ')}]`
    : `${where} is ${value}`;
  return { ...base, value, meaning, explanation, reason, at, by, haltedAt, resumedAt, ...unconfigured, ...(fieldsSeen ? { fieldsSeen } : {}) };
}

/**
 * "ON (halted)", "absent (halted)": the platform's word first, shipgate's meaning beside it; an
 * unset key read with the seed's default says so: "unset (treated as trading: no breaker configured)".
 */
export const describeFlag = (r: FlagReading) => (r.value === null && r.unconfigured ? `unset (treated as ${r.meaning}: ${r.unconfigured})` : `${r.value ?? 'absent'} (${r.meaning})`);

/** One atomic change to the state store. */
export type KeyChange =
  | { kind: 'set'; key: string; value: string }
  | { kind: 'merge-json'; key: string; fields: Record<string, string> }
  | { kind: 'append'; key: string; value: string };

export interface FlagWrite {
  to: 'halted' | 'trading';
  reason: string | null;
  at: string;
  by: string;
  env: string;
}

/**
 * The writes that put a flag in `to`, in the platform's own format: only the state field and the
 * configured reason/time/actor fields change; every other field of the object is kept.
 */
export function flagChanges(spec: SafetyFlagSpec, w: FlagWrite): KeyChange[] {
  const word = (w.to === 'halted' ? spec.halted : spec.trading)[0]!;
  const fields: [string | undefined, string | null][] = [
    [spec.field ?? spec.key, word],
    [spec.reasonField, w.reason],
    [spec.atField, w.at],
    [spec.byField, w.by],
    [w.to === 'halted' ? spec.haltedAtField : spec.resumedAtField, w.at],
  ];
  const present = fields.filter((f): f is [string, string] => Boolean(f[0]) && f[1] !== null);
  const changes: KeyChange[] = spec.field
    ? [{ kind: 'merge-json', key: spec.key, fields: Object.fromEntries(present) }]
    : present.map(([key, value]) => ({ kind: 'set', key, value }));
  if (spec.history) changes.push({ kind: 'append', key: spec.history, value: JSON.stringify({ [spec.field ?? 'value']: word, reason: w.reason, at: w.at, by: w.by, env: w.env, source: 'shipgate' }) });
  return changes;
}

/** The new JSON text of an object after a merge; refuses to overwrite something that is not an object. */
export function mergeJson(current: string | null, fields: Record<string, string>): { value: string } | { problem: string } {
  if (current === null) return { value: JSON.stringify(fields) };
  const obj = parseObject(current);
  if (!obj) return { problem: 'holds a value that is not a JSON object; shipgate will not overwrite it' };
  return { value: JSON.stringify({ ...obj, ...fields }) };
}

/** Problems a flag spec has on its face (a word in both lists, an empty list): for `config check`. */
export function specProblems(spec: Pick<SafetyFlagSpec, 'trading' | 'halted'>): { list: 'trading' | 'halted'; index: number; message: string }[] {
  return spec.halted.flatMap((word, index) => (spec.trading.includes(word) ? [{ list: 'halted' as const, index, message: `${JSON.stringify(word)} is in both trading and halted` }] : []));
}
