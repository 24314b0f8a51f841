import type { ChangeType, SoakPolicy } from '../config/schema.js';
import { matchesGlob } from './glob.js';

/** Used when shipgate.yml has no `changeTypes`: the seed's examples of what lengthens or shortens a soak. */
export const DEFAULT_CHANGE_RULES: Record<string, ChangeType> = {
  'migrations/**': 'db-schema',
  'db/**': 'db-schema',
  '**/migrations/**': 'db-schema',
  'strategies/**': 'strategy',
  '**/circuit_breaker/**': 'breaker-logic',
  '**/breaker/**': 'breaker-logic',
  '**/reconciliation/**': 'reconciliation',
  'docs/**': 'docs-only',
  '**/*.md': 'docs-only',
  'ui/**': 'ui-only',
  'web/**': 'ui-only',
  'config/**': 'config-only',
};

const EXTENDED: ChangeType[] = ['major', 'db-schema', 'strategy', 'breaker-logic', 'reconciliation'];
const SHORT: ChangeType[] = ['hotfix', 'docs-only', 'ui-only', 'config-only'];
const NARROWING: ChangeType[] = ['docs-only', 'ui-only', 'config-only'];

export type SoakClass = 'extended' | 'standard' | 'short';

/**
 * Change types of a release from the paths it changed. A "-only" type holds only when every
 * changed path has it; a file matching no rule is a standard change.
 */
export function changeTypesFromPaths(paths: string[], rules: Record<string, ChangeType> = DEFAULT_CHANGE_RULES): ChangeType[] {
  const found = new Set<ChangeType>();
  let everyPathNarrow = paths.length > 0;
  const narrowTypes = new Set<ChangeType>();
  for (const file of paths) {
    const types = Object.entries(rules).filter(([glob]) => matchesGlob(file, glob)).map(([, t]) => t);
    for (const t of types) if (!NARROWING.includes(t)) found.add(t);
    const narrow = types.filter((t) => NARROWING.includes(t));
    if (narrow.length === 0) everyPathNarrow = false;
    narrow.forEach((t) => narrowTypes.add(t));
  }
  if (everyPathNarrow) narrowTypes.forEach((t) => found.add(t));
  return [...found].sort();
}

/**
 * The seed's soak rules. Anything extended wins (safety first: a hotfix that also changes the
 * schema soaks long); a short soak needs every change type to be a short one.
 */
export function soakClass(types: ChangeType[]): SoakClass {
  if (types.some((t) => EXTENDED.includes(t))) return 'extended';
  if (types.length > 0 && types.every((t) => SHORT.includes(t))) return 'short';
  return 'standard';
}

export function requiredSoakMs(types: ChangeType[], policy: Pick<SoakPolicy, 'standard' | 'extended' | 'short'>): { soakClass: SoakClass; ms: number } {
  const cls = soakClass(types);
  return { soakClass: cls, ms: policy[cls] };
}
