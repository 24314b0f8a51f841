import { describe, expect, it } from 'vitest';
import { changeTypesFromPaths, requiredSoakMs, soakClass } from '../src/core/soak-policy.js';
import { monitorPhase } from '../src/core/monitor-phase.js';
import { matchesGlob } from '../src/core/glob.js';

const H = 3_600_000;
const policy = { standard: 24 * H, extended: 48 * H, short: 4 * H };

describe('soak length from change types (seed: 24 h standard, 48-72 h extended, 4-8 h shortened)', () => {
  it.each([
    [[], 'standard', 24],
    [['major'], 'extended', 48],
    [['db-schema'], 'extended', 48],
    [['strategy'], 'extended', 48],
    [['breaker-logic'], 'extended', 48],
    [['reconciliation'], 'extended', 48],
    [['hotfix'], 'short', 4],
    [['docs-only'], 'short', 4],
    [['ui-only'], 'short', 4],
    [['config-only'], 'short', 4],
    [['hotfix', 'db-schema'], 'extended', 48],
    [['docs-only', 'hotfix'], 'short', 4],
  ] as const)('%j soaks %s (%ih)', (types, cls, hours) => {
    expect(soakClass([...types])).toBe(cls);
    expect(requiredSoakMs([...types], policy)).toEqual({ soakClass: cls, ms: hours * H });
  });

  it('uses the configured lengths', () => {
    expect(requiredSoakMs(['strategy'], { ...policy, extended: 72 * H }).ms).toBe(72 * H);
    expect(requiredSoakMs(['hotfix'], { ...policy, short: 8 * H }).ms).toBe(8 * H);
  });

  it('derives types from changed paths; "-only" needs every path to qualify', () => {
    expect(changeTypesFromPaths(['migrations/0015_add_fills.py', 'apps/gateway/main.py'])).toEqual(['db-schema']);
    expect(changeTypesFromPaths(['strategies/momentum.py'])).toEqual(['strategy']);
    expect(changeTypesFromPaths(['libs/risk/circuit_breaker/state.py'])).toEqual(['breaker-logic']);
    expect(changeTypesFromPaths(['docs/RUNBOOKS/ops.md', 'README.md'])).toEqual(['docs-only']);
    expect(changeTypesFromPaths(['docs/ops.md', 'apps/gateway/main.py'])).toEqual([]);
    expect(changeTypesFromPaths([])).toEqual([]);
    expect(changeTypesFromPaths(['sql/V2__x.sql'], { 'sql/**': 'db-schema' })).toEqual(['db-schema']);
  });

  it('globs: ** spans directories, * stays within one', () => {
    expect(matchesGlob('a/b/c.md', '**/*.md')).toBe(true);
    expect(matchesGlob('c.md', '**/*.md')).toBe(true);
    expect(matchesGlob('a/b/c.py', 'a/*.py')).toBe(false);
    expect(matchesGlob('a/c.py', 'a/*.py')).toBe(true);
  });
});

describe('monitor phases (seed: 0-5 min, 5-30 min, 30 min-4 h)', () => {
  const p = { immediate: 5 * 60_000, short: 30 * 60_000, medium: 4 * H };
  it.each([
    [0, 'immediate'],
    [4 * 60_000, 'immediate'],
    [5 * 60_000, 'short'],
    [29 * 60_000, 'short'],
    [30 * 60_000, 'medium'],
    [4 * H - 1, 'medium'],
    [4 * H, 'done'],
  ])('%i ms after going live is %s', (ms, phase) => expect(monitorPhase(ms, p)).toBe(phase));
});
