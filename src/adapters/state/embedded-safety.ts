import { failed } from '../../core/errors.js';
import { mergeJson, type KeyChange } from '../../core/safety-state.js';
import type { Store } from '../store/store.js';
import type { SafetyRead, SafetyStore } from './safety-state.js';

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

  private key(k: string): string {
    return `safety:${this.prefix}${k}`;
  }

  async read(keys: string[]): Promise<SafetyRead> {
    const values = await this.store.getValues(keys.map((k) => this.key(k)));
    return { kind: 'ok', values: Object.fromEntries(keys.map((k) => [k, values[this.key(k)] ?? null])) };
  }

  async apply(changes: KeyChange[]): Promise<void> {
    const keys = [...new Set(changes.filter((c) => c.kind !== 'set').map((c) => c.key))];
    const current = keys.length ? (await this.read(keys)) : { kind: 'ok' as const, values: {} };
    const values = current.kind === 'ok' ? { ...current.values } : {};
    const out: Record<string, string> = {};
    for (const c of changes) {
      if (c.kind === 'set') out[c.key] = c.value;
      else if (c.kind === 'merge-json') {
        const merged = mergeJson(out[c.key] ?? values[c.key] ?? null, c.fields);
        if ('problem' in merged) throw failed(`${c.key} ${merged.problem}`, { hint: 'Check trading.breaker / trading.killSwitch `field` against what the platform stores; nothing was changed.' });
        out[c.key] = merged.value;
      } else {
        // A list in one value: the embedded store has no list type.
        const list = JSON.parse(out[c.key] ?? values[c.key] ?? '[]') as unknown[];
        out[c.key] = JSON.stringify([...list, JSON.parse(c.value)]);
      }
    }
    await this.store.setValues(Object.fromEntries(Object.entries(out).map(([k, v]) => [this.key(k), v])), this.now());
  }
}
