/**
 * The trading safety state the seeds keep in Redis: `cb:state` (OPEN = normal trading,
 * TRIPPED = halted), `cb:trip_reason`, `cb:last_reset`, `killswitch:active` ("true"/"false").
 * Keys carry a per-environment prefix so staging and production never share them.
 */
export const SAFETY_KEYS = {
  breaker: 'cb:state',
  tripReason: 'cb:trip_reason',
  trippedAt: 'cb:tripped_at',
  lastReset: 'cb:last_reset',
  killswitch: 'killswitch:active',
  /** Which environment's shipgate last wrote these keys (to spot state carried over from staging). */
  lastWriter: 'shipgate:last_writer',
} as const;

export type SafetyKey = keyof typeof SAFETY_KEYS;
export type SafetyValues = Partial<Record<SafetyKey, string>>;

export type SafetyRead = { kind: 'ok'; values: Record<SafetyKey, string | null> } | { kind: 'unavailable'; reason: string };

export interface SafetyStore {
  /** Where the state lives, for people (never a password). */
  readonly describe: string;
  read(): Promise<SafetyRead>;
  write(values: SafetyValues): Promise<void>;
}

export const allKeys = Object.keys(SAFETY_KEYS) as SafetyKey[];
