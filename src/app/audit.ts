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

/**
 * Every mutating operation goes through here, so the audit log sees all of them. An actor proven
 * by an API token is recorded with that identity (unless the event names one of its own).
 */
export function record(ctx: Pick<AppContext, 'store' | 'clock' | 'actor' | 'identity'>, event: AuditEvent): Promise<AuditRecord> {
  const detail = ctx.identity && !(event.detail && 'identity' in event.detail) ? { ...event.detail, identity: ctx.identity } : event.detail;
  return ctx.store.appendAudit({ at: isoNow(ctx.clock), actor: ctx.actor, ...event, ...(detail ? { detail } : {}) });
}
