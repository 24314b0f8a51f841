import { formatDuration } from '../../core/duration.js';
import type { ConfigRule, RuleFinding } from './rule.js';

const HOUR = 3_600_000;

/** The seed's soak-length rules; a duration outside them is allowed (tests, drills) but said out loud. */
const SEED_RANGES = {
  standard: { min: 24 * HOUR, max: Infinity, rule: 'the seed soaks standard releases at least 24h' },
  extended: { min: 48 * HOUR, max: 72 * HOUR, rule: 'the seed soaks major, db-schema, strategy, breaker-logic and reconciliation changes 48h to 72h' },
  short: { min: 4 * HOUR, max: 8 * HOUR, rule: 'the seed shortens soaks of hotfix, docs-only, ui-only and config-only changes to 4h to 8h' },
} as const;

const hours = (ms: number) => `${ms / HOUR}h`;

export const soakDurations: ConfigRule = ({ config }) => {
  const found: RuleFinding[] = [];
  for (const [env, spec] of Object.entries(config.environments ?? {})) {
    if (!spec.soak) continue;
    for (const [kind, range] of Object.entries(SEED_RANGES) as [keyof typeof SEED_RANGES, (typeof SEED_RANGES)[keyof typeof SEED_RANGES]][]) {
      const value = spec.soak[kind];
      if (value >= range.min && value <= range.max) continue;
      const wanted = range.max === Infinity ? `at least ${hours(range.min)}` : `${hours(range.min)} to ${hours(range.max)}`;
      found.push({
        path: ['environments', env, 'soak', kind],
        message: `${kind === 'extended' ? 'an' : 'a'} ${kind} soak of ${formatDuration(value)} is outside the seed's rule: ${range.rule}`,
        hint: `Fine for tests and drills; for real releases set ${kind} to ${wanted}.`,
        severity: 'warning',
      });
    }
  }
  return found;
};
