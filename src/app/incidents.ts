import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { AuditRecord, IncidentRecord } from '../adapters/store/store.js';
import { isoNow } from '../core/clock.js';
import { badInput } from '../core/errors.js';
import type { Trigger } from './analysis/watch-data.js';
import { record } from './audit.js';
import { notify } from './notify.js';
import type { AppContext } from './context.js';

export interface IncidentData {
  title: string;
  /** The release rolled back from. */
  version: string;
  deploymentId: number | null;
  trigger: Trigger;
  rollback: null | { deploymentId: number; ok: boolean; version: string; finishedAt: string; error?: string | undefined };
  database?: { action: string; detail: string } | null;
}

/** Every rollback, manual or automatic, opens an incident with its trigger and evidence. */
export async function openIncident(ctx: AppContext, input: IncidentData & { env: string }): Promise<number> {
  const { env, ...data } = input;
  const incident = await ctx.store.createIncident(env, isoNow(ctx.clock), data);
  await record(ctx, { action: 'incident.open', outcome: 'open', env, version: input.version, reason: input.title, detail: { incidentId: incident.id, trigger: input.trigger.check } });
  notify(ctx, { event: 'incident.opened', env, version: input.version, reason: input.title, detail: { incidentId: incident.id, trigger: input.trigger.check, rolledBackTo: input.rollback?.version ?? null } });
  return incident.id;
}

export interface IncidentView extends IncidentRecord<IncidentData> {
  timeline: Pick<AuditRecord, 'seq' | 'at' | 'actor' | 'action' | 'version' | 'outcome' | 'reason'>[];
}

export async function showIncident(ctx: AppContext, id: number): Promise<IncidentView> {
  const incident = (await ctx.store.getIncident(id)) as IncidentRecord<IncidentData> | undefined;
  if (!incident) throw badInput(`no incident #${id}`, { where: '<id>', hint: 'List them with `shipgate incident list`.' });
  return { ...incident, timeline: await timelineFor(ctx, incident) };
}

/** The audit events of the environment from the bad release's deploy to the incident's opening. */
async function timelineFor(ctx: AppContext, incident: IncidentRecord<IncidentData>) {
  const events = await ctx.store.listAudit({ env: incident.env });
  const deployStart = events.find((e) => e.action === 'deploy.start' && (e.detail as { deploymentId?: number }).deploymentId === incident.data.deploymentId);
  const opened = events.find((e) => e.action === 'incident.open' && (e.detail as { incidentId?: number }).incidentId === incident.id);
  const from = deployStart?.seq ?? 0;
  const to = opened?.seq ?? Number.MAX_SAFE_INTEGER;
  return events.filter((e) => e.seq >= from && e.seq <= to).map(({ seq, at, actor, action, version, outcome, reason }) => ({ seq, at, actor, action, version, outcome, reason }));
}

const slug = (s: string) => s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 60);

/** The seed's incident report (docs/INCIDENTS/YYYY-MM-DD-<slug>.md), with what shipgate knows filled in. */
export function incidentMarkdown(view: IncidentView): string {
  const d = view.data;
  const rb = d.rollback;
  const evidence = d.trigger.evidence ? `\n\nEvidence:\n\n\`\`\`json\n${JSON.stringify(d.trigger.evidence, null, 2)}\n\`\`\`` : '';
  return `# Incident ${view.id}: ${d.title}

- Environment: ${view.env}
- Opened: ${view.openedAt}
- Release rolled back: ${d.version}${rb ? ` -> ${rb.version} (${rb.ok ? 'rollback succeeded' : `rollback FAILED: ${rb.error ?? ''}`} at ${rb.finishedAt})` : ' (not rolled back)'}
- Database: ${d.database ? `${d.database.action}: ${d.database.detail}` : 'no database action'}

## What went wrong

Trigger \`${d.trigger.check}\` at ${d.trigger.at}: ${d.trigger.reason}${evidence}

## Timeline

| time | actor | action | version | outcome | reason |
|---|---|---|---|---|---|
${view.timeline.map((e) => `| ${e.at} | ${e.actor} | ${e.action} | ${e.version ?? ''} | ${e.outcome} | ${(e.reason ?? '').replace(/\|/g, '\\|')} |`).join('\n')}

## Impact

_To be filled: users, orders and positions affected; duration (first bad event to restore above)._

## Root cause

_To be filled._

## Follow-ups

- [ ] Fix the issue in a new branch
- [ ] Redeploy to staging and pass the soak before production (shipgate blocks ${d.version} in ${view.env})
- [ ] Update runbooks if this was a new failure mode

## Hotfix plan

_To be filled: branch, owner, tests that prove the fix._
`;
}

export async function exportIncident(ctx: AppContext, id: number, dir: string | undefined): Promise<string> {
  const view = await showIncident(ctx, id);
  const outDir = path.resolve(ctx.configDir, dir ?? 'docs/INCIDENTS');
  mkdirSync(outDir, { recursive: true });
  const file = path.join(outDir, `${view.openedAt.slice(0, 10)}-${slug(`${view.env}-${view.data.version}-${view.data.trigger.check}`)}.md`);
  writeFileSync(file, incidentMarkdown(view));
  await record(ctx, { action: 'incident.export', outcome: 'ok', env: view.env, version: view.data.version, detail: { incidentId: id, file } });
  return file;
}
