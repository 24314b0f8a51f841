import type { MonitorPolicy } from '../config/schema.js';

export type MonitorPhase = 'immediate' | 'short' | 'medium' | 'done';

/** The seed's post-deploy phases: 0-5 min, 5-30 min, 30 min-4 h. */
export function monitorPhase(elapsedMs: number, policy: Pick<MonitorPolicy, 'immediate' | 'short' | 'medium'>): MonitorPhase {
  if (elapsedMs < policy.immediate) return 'immediate';
  if (elapsedMs < policy.short) return 'short';
  if (elapsedMs < policy.medium) return 'medium';
  return 'done';
}
