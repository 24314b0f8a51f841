import type { ShipgateConfig } from '../config/schema.js';
import { environmentSpec } from '../config/resolve.js';
import {
  checkWindow,
  DEFAULT_WINDOW_POLICY,
  EMPTY_CALENDAR,
  type CalendarConfig,
  type WindowDecision,
  type WindowPolicy,
} from '../core/calendar/window.js';

export interface WindowSetup {
  policy: WindowPolicy;
  calendar: CalendarConfig;
  /** Where the policy comes from, for people: e.g. `environments.production.window`. */
  source: string;
}

/**
 * The window policy and calendar that apply to `env`. Without a config (no shipgate.yml), without
 * `env`, or for an environment without `window:`, the default policy (seed) applies. An unknown
 * environment is bad input.
 */
export function windowSetup(config: ShipgateConfig | undefined, env: string | undefined): WindowSetup {
  if (!config) return { policy: { ...DEFAULT_WINDOW_POLICY }, calendar: EMPTY_CALENDAR, source: 'default policy (no shipgate.yml found)' };
  const calendar: CalendarConfig = { closures: config.calendar.closures, freezes: config.calendar.freezes };
  if (env === undefined) return { policy: { ...DEFAULT_WINDOW_POLICY }, calendar, source: 'default policy (no --env given)' };
  const window = environmentSpec(config, env).window;
  if (!window) return { policy: { ...DEFAULT_WINDOW_POLICY }, calendar, source: `default policy (environments.${env} has no window)` };
  return { policy: { enforce: window.enforce, mondayMorningUntil: window.mondayMorningUntil }, calendar, source: `environments.${env}.window` };
}

/** The deployment window of `env` at `at` (deploy/promote can refuse with exit 3 when `!open`). */
export function deployWindow(config: ShipgateConfig | undefined, env: string | undefined, at: Date): WindowDecision & { policySource: string } {
  const setup = windowSetup(config, env);
  return { ...checkWindow(at, setup.policy, setup.calendar), policySource: setup.source };
}
