import { isoNow } from '../core/clock.js';
import type { Trigger } from './analysis/watch-data.js';
import { record } from './audit.js';
import type { AppContext } from './context.js';

export interface IncidentData {
  title: string;
  version: string;
  deploymentId: number;
  trigger: Trigger;
  rollback: null | { deploymentId: number; ok: boolean; version: string; finishedAt: string; error?: string | undefined };
}

/** Every rollback the monitor makes (or would make) opens an incident with its trigger and evidence. */
export async function openIncident(ctx: AppContext, input: IncidentData & { env: string }): Promise<number> {
  const { env, ...data } = input;
  const incident = await ctx.store.createIncident(env, isoNow(ctx.clock), data);
  await record(ctx, { action: 'incident.open', outcome: 'open', env, version: input.version, reason: input.title, detail: { incidentId: incident.id, trigger: input.trigger.check } });
  return incident.id;
}
