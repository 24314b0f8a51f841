import type { Store } from '../store/store.js';
import { allKeys, SAFETY_KEYS, type SafetyRead, type SafetyStore, type SafetyValues } from './safety-state.js';

/** The same keys kept in shipgate's own store, for the demo and for setups without Redis. */
export class EmbeddedSafetyStore implements SafetyStore {
  readonly describe: string;

  constructor(
    private readonly store: Store,
    private readonly prefix: string,
    private readonly now: () => string,
  ) {
    this.describe = `shipgate store (embedded)${prefix ? ` prefix "${prefix}"` : ''}`;
  }

  async read(): Promise<SafetyRead> {
    const keys = allKeys.map((k) => `safety:${this.prefix}${SAFETY_KEYS[k]}`);
    const values = await this.store.getValues(keys);
    return { kind: 'ok', values: Object.fromEntries(allKeys.map((k, i) => [k, values[keys[i]!] ?? null])) as Record<(typeof allKeys)[number], string | null> };
  }

  async write(values: SafetyValues): Promise<void> {
    await this.store.setValues(Object.fromEntries(Object.entries(values).map(([k, v]) => [`safety:${this.prefix}${SAFETY_KEYS[k as keyof typeof SAFETY_KEYS]}`, v])), this.now());
  }
}
