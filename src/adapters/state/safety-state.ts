import type { KeyChange } from '../../core/safety-state.js';

/**
 * Where the trading safety state lives (the platform's Redis, or shipgate's own store when there
 * is none). Keys are given without the environment's prefix; the store adds it.
 */
export type SafetyRead = { kind: 'ok'; values: Record<string, string | null> } | { kind: 'unavailable'; reason: string };

export interface SafetyStore {
  /** Where the state lives, for people (never a password). */
  readonly describe: string;
  read(keys: string[]): Promise<SafetyRead>;
  /** All changes at once: JSON merges read and rewrite their object atomically, keeping other fields. */
  apply(changes: KeyChange[]): Promise<void>;
}
