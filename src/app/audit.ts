import type { AuditRecord } from '../adapters/store/store.js';
import { isoNow } from '../core/clock.js';
import type { AppContext } from './context.js';

export interface AuditEvent {
  action: string;
  outcome: string;
  env?: string | null;
  version?: string | null;
  reason?: string | null;
  detail?: Record<string, unknown>;
}

/** Every mutating operation goes through here, so the audit log sees all of them. */
export function record(ctx: Pick<AppContext, 'store' | 'clock' | 'actor'>, event: AuditEvent): Promise<AuditRecord> {
  return ctx.store.appendAudit({ at: isoNow(ctx.clock), actor: ctx.actor, ...event });
}
