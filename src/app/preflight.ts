import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { GitHubClient } from '../adapters/ci/github.js';
import type { PreflightSpec } from '../config/schema.js';
import { isoNow } from '../core/clock.js';
import { badInput } from '../core/errors.js';
import { matchesGlob } from '../core/glob.js';
import { changeTypesFromPaths } from '../core/soak-policy.js';
import { assertVersionSyntax } from '../core/version.js';
import { record } from './audit.js';
import type { AppContext } from './context.js';
import { currentVersion } from './history.js';

export type ItemStatus = 'pass' | 'fail' | 'attested' | 'info';

export interface PreflightItem {
  item: string;
  title: string;
  status: ItemStatus;
  evidence: string;
  /** Output of a command item, last lines. */
  output?: string[];
}

export interface PreflightResult {
  version: string;
  commit: string;
  env: string;
  passed: boolean;
  at: string;
  items: PreflightItem[];
  changelog: string[];
}

const DEFAULT_SPEC: PreflightSpec = { commands: [], rollbackPlan: 'docs/rollback/{version}.md', attestable: ['code-reviewed', 'migrations-tested', 'stakeholders-notified', 'rollback-plan', 'ci'] };

/** A person's word for an item only a person can judge; recorded, never inferred. */
export async function attest(ctx: AppContext, version: string, item: string, by: string, note?: string) {
  assertVersionSyntax(version);
  const spec = ctx.config.preflight ?? DEFAULT_SPEC;
  if (!spec.attestable.includes(item)) throw badInput(`"${item}" cannot be attested`, { where: '--attest', hint: `Attestable items: ${spec.attestable.join(', ')} (preflight.attestable in shipgate.yml).` });
  if (!by.trim()) throw badInput('--by needs a name', { where: '--by', hint: 'Say who attests, e.g. --by alice.' });
  const a = await ctx.store.addAttestation({ version, item, by: by.trim(), at: isoNow(ctx.clock), note: note ?? null });
  await record(ctx, { action: 'preflight.attest', outcome: 'attested', version, reason: note ?? null, detail: { item, by: a.by } });
  return a;
}

/** The seed's pre-deployment checklist, each item with its evidence; recorded for `promote`. */
export async function runPreflight(ctx: AppContext, version: string, env: string): Promise<PreflightResult> {
  assertVersionSyntax(version);
  const envSpec = ctx.environment(env).spec;
  const spec = ctx.config.preflight ?? DEFAULT_SPEC;
  const commit = await ctx.repo.resolve(version);
  const attestations = await ctx.store.listAttestations(version);
  const attested = (item: string) => attestations.filter((a) => a.item === item).at(-1);
  const orAttested = (item: string, title: string, evidence: string): PreflightItem => {
    const a = attested(item);
    return a ? { item, title, status: 'attested', evidence: `attested by ${a.by} at ${a.at}${a.note ? `: ${a.note}` : ''} (${evidence})` } : { item, title, status: 'fail', evidence: `${evidence}; attest with --attest ${item} --by NAME` };
  };

  const released = await currentVersion(ctx.store, env);
  const base = released ? await ctx.repo.resolve(released).catch(() => undefined) : undefined;
  const changed = base ? await ctx.repo.changedPaths(base, commit) : [];
  const items: PreflightItem[] = [];
  const github = spec.github ? new GitHubClient({ apiUrl: spec.github.apiUrl, repo: spec.github.repo, ...(process.env[spec.github.tokenEnv] ? { token: process.env[spec.github.tokenEnv]! } : {}) }) : undefined;

  if (github) {
    const ci = await github.ciStatus(commit);
    const why = ci.state === 'failure' ? await ciTriageSummary(ctx, commit) : '';
    items.push({ item: 'ci', title: 'All tests passing in CI', status: ci.state === 'success' ? 'pass' : 'fail', evidence: ci.summary + why });
  } else items.push(orAttested('ci', 'All tests passing in CI', 'no GitHub repository configured (preflight.github)'));

  if (spec.commands.length) {
    const dir = path.join(ctx.stateDir, 'preflight', version);
    mkdirSync(path.dirname(dir), { recursive: true });
    await ctx.repo.checkout(dir, commit);
    for (const c of spec.commands) {
      const res = await ctx.runner.run(c.command as [string, ...string[]], { cwd: path.resolve(dir, c.cwd), timeoutMs: 30 * 60_000 });
      const output = `${res.stdout}${res.stderr}`.split('\n').filter(Boolean).slice(-20);
      items.push({ item: `command:${c.name}`, title: `${c.name} (${c.command.join(' ')})`, status: res.exitCode === 0 ? 'pass' : 'fail', evidence: `exit ${res.exitCode}`, output });
    }
  }

  if (spec.adr) {
    const touched = changed.filter((p) => spec.adr!.paths.some((g) => matchesGlob(p, g)));
    const added = base ? (await ctx.repo.addedPaths(base, commit)).filter((p) => p.startsWith(`${spec.adr!.dir.replace(/\/$/, '')}/`)) : [];
    items.push(
      touched.length === 0 ? { item: 'adr', title: 'ADRs for architectural changes', status: 'pass', evidence: `no change under ${spec.adr.paths.join(', ')}` }
      : added.length ? { item: 'adr', title: 'ADRs for architectural changes', status: 'pass', evidence: `${touched.length} architectural paths changed; new ADR ${added.join(', ')}` }
      : { item: 'adr', title: 'ADRs for architectural changes', status: 'fail', evidence: `${touched.slice(0, 5).join(', ')} changed but no new file in ${spec.adr.dir}` },
    );
  }

  const schemaChange = changeTypesFromPaths(changed, ctx.config.changeTypes).includes('db-schema');
  const cycle = (await ctx.store.listAudit({ action: 'migrate.cycle', version, limit: 5 })).find((e) => e.outcome === 'passed');
  items.push(
    cycle ? { item: 'migrations-tested', title: 'Database migrations tested', status: 'pass', evidence: `up/down/up cycle passed in ${cycle.env} at ${cycle.at}` }
    : !schemaChange && base ? { item: 'migrations-tested', title: 'Database migrations tested', status: 'pass', evidence: `no schema change since ${released}` }
    : orAttested('migrations-tested', 'Database migrations tested', base ? 'schema changed and no up/down/up cycle recorded in staging' : `no ${env} release to compare with`),
  );

  const missing = envSpec.requiredSecrets.filter((name) => !process.env[name]);
  items.push({ item: 'secrets', title: `Secrets/config present for ${env}`, status: missing.length ? 'fail' : 'pass', evidence: envSpec.requiredSecrets.length === 0 ? 'no requiredSecrets configured' : missing.length ? `missing: ${missing.join(', ')}` : `present: ${envSpec.requiredSecrets.join(', ')}` });

  const planFile = spec.rollbackPlan.replaceAll('{version}', version);
  items.push((await ctx.repo.fileExists(commit, planFile)) ? { item: 'rollback-plan', title: 'Rollback plan documented', status: 'pass', evidence: `${planFile} in ${version}` } : orAttested('rollback-plan', 'Rollback plan documented', `${planFile} not in ${version}`));

  if (github) {
    const review = await github.reviewStatus(commit);
    items.push(review.approved ? { item: 'code-reviewed', title: 'Code reviewed and approved', status: 'pass', evidence: review.summary } : orAttested('code-reviewed', 'Code reviewed and approved', review.summary));
  } else items.push(orAttested('code-reviewed', 'Code reviewed and approved', 'no GitHub repository configured'));

  const announced = (await ctx.store.listAudit({ action: 'notify.sent', limit: 200 })).find((e) => e.version === version && (e.detail as { event?: string }).event === 'release.announced');
  items.push(announced ? { item: 'stakeholders-notified', title: 'Stakeholders notified', status: 'pass', evidence: `announcement sent at ${announced.at}` } : orAttested('stakeholders-notified', 'Stakeholders notified', `no announcement sent (shipgate announce ${version})`));

  const lastTag = await ctx.repo.lastTagBefore(commit);
  const changelog = await ctx.repo.changelog(lastTag ? await ctx.repo.resolve(lastTag) : undefined, commit);
  items.push({ item: 'changelog', title: `Changes since ${lastTag ?? 'the beginning'}`, status: 'info', evidence: `${changelog.length} commits` });

  const passed = items.every((i) => i.status !== 'fail');
  const at = isoNow(ctx.clock);
  await record(ctx, { action: 'preflight.run', outcome: passed ? 'passed' : 'failed', env, version, detail: { commit, items: items.map(({ item, status, evidence }) => ({ item, status, evidence })) } });
  return { version, commit, env, passed, at, items, changelog };
}

/** The newest recorded preflight of a version for an environment, for `promote`. */
export async function latestPreflight(ctx: AppContext, version: string, env: string) {
  return (await ctx.store.listAudit({ action: 'preflight.run', version, env, limit: 1 }))[0];
}

/** A red CI explained from its logs (`ci triage`): the failed job's category, step and first error. */
async function ciTriageSummary(ctx: AppContext, commit: string): Promise<string> {
  try {
    const { triageRemote } = await import('./ci-triage.js');
    const jobs = (await triageRemote(ctx, commit)).flatMap((r) => r.jobs);
    if (!jobs.length) return '';
    return '; triage: ' + jobs.slice(0, 3).map((j) => `${j.job.name}: ${j.category}${j.failedStep ? ` in "${j.failedStep}"` : ''}${j.firstError ? `: ${j.firstError}` : ''}`).join('; ');
  } catch (err) {
    return `; triage unavailable: ${(err as Error).message}`;
  }
}
