import type { Command } from 'commander';
import pc from 'picocolors';
import type { DeploymentOutcome } from '../../app/execute-deployment.js';
import { badInput, ExitCode } from '../../core/errors.js';
import { CHANGE_TYPES } from '../../config/change-types.js';
import type { ChangeType } from '../../config/schema.js';
import type { DbChoice } from '../../app/database-rollback.js';
import { line, printJson } from '../output.js';
import { globalOptions, withContext } from '../shared.js';

export function registerDeployCommands(program: Command): void {
  program
    .command('deploy')
    .description('deploy a release to an environment: prepare, stop old, start new, verify health; returns to the last good version if verification fails')
    .argument('<env>', 'environment name from shipgate.yml')
    .option('--version <tag>', 'git tag or commit to deploy')
    .option('--resume', 'finish an interrupted deployment of this environment')
    .option('--reason <text>', 'why, for the audit log')
    .option('--allow-tripped', 'deploy even though the kill switch is on or the breaker TRIPPED (needs --reason)')
    .option('--allow-bad', 'deploy a release marked bad in this environment (failed soak or monitor, rolled back); needs --reason, audited')
    .option('--change-type <type...>', `declare change types that lengthen or shorten the soak (${CHANGE_TYPES.join(', ')})`)
    .option('--json', 'print the outcome as JSON')
    .addHelpText('after', '\nExamples:\n  shipgate deploy staging --version v1.2.3\n  shipgate deploy staging --version v1.2.4 --change-type hotfix\n  shipgate deploy production --resume\n  shipgate deploy staging --version v1.2.0 --allow-bad --reason "the soak failed on the broker outage, not the release"')
    .action(async (env: string, opts: { version?: string; resume?: boolean; reason?: string; changeType?: string[]; allowTripped?: boolean; allowBad?: boolean }, cmd: Command) => {
      const changeTypes = parseChangeTypes(opts.changeType);
      const { deploy } = await import('../../app/deploy.js');
      const outcome = await withContext(cmd, (ctx) => deploy(ctx, { env, version: opts.version, resume: opts.resume, reason: opts.reason, changeTypes, allowTripped: opts.allowTripped, allowBad: opts.allowBad }));
      render(outcome, Boolean(globalOptions(cmd).json));
    });

  program
    .command('promote')
    .description('deploy the release that passed its soak in the promoteFrom environment; refused (exit 3) listing every unmet requirement')
    .argument('<env>', 'environment to promote into, e.g. production')
    .option('--version <tag>', 'release to promote (default: what promoteFrom runs)')
    .option('--reason <text>', 'why, for the audit log (required with --emergency)')
    .option('--emergency', 'an emergency hotfix during the market session: needs the emergency approvals and an on-call engineer')
    .option('--on-call <name>', 'the on-call engineer watching this deploy')
    .option('--allow-tripped', 'promote even though the kill switch is on or the breaker TRIPPED (needs --reason)')
    .option('--json', 'print the outcome as JSON')
    .addHelpText('after', '\nExamples:\n  shipgate promote production\n  shipgate promote production --version v1.2.4 --emergency --reason "fills not booked" --on-call alice')
    .action(async (env: string, opts: { version?: string; reason?: string; emergency?: boolean; onCall?: string; allowTripped?: boolean }, cmd: Command) => {
      const { promote } = await import('../../app/promote.js');
      const outcome = await withContext(cmd, (ctx) => promote(ctx, { env, version: opts.version, reason: opts.reason, emergency: opts.emergency, onCall: opts.onCall, allowTripped: opts.allowTripped }));
      render(outcome, Boolean(globalOptions(cmd).json));
    });

  program
    .command('rollback')
    .description('return an environment to its last known good version (or --to), finishing any interrupted deployment first')
    .argument('<env>', 'environment name from shipgate.yml')
    .option('--to <version>', 'version to return to (default: the last known good one)')
    .requiredOption('--reason <text>', 'why: recorded in the audit log and the incident')
    .option('--db <how>', 'when the release ran migrations: restore (the pre-deploy backup), down (its down migration) or skip; default from database.rollback')
    .option('--accept-data-loss', 'allow a restore that discards writes made since the backup')
    .option('--json', 'print the outcome as JSON')
    .addHelpText('after', '\nExample:\n  shipgate rollback production --reason "error rate 10% after v1.1.0"')
    .action(async (env: string, opts: { to?: string; reason?: string; db?: string; acceptDataLoss?: boolean }, cmd: Command) => {
      if (opts.db !== undefined && !['restore', 'down', 'skip'].includes(opts.db)) throw badInput(`--db must be restore, down or skip, got ${JSON.stringify(opts.db)}`, { where: '--db', hint: 'restore puts back the backup taken before the release; down runs its down migration.' });
      const { rollback } = await import('../../app/rollback.js');
      const outcome = await withContext(cmd, (ctx) => rollback(ctx, { env, to: opts.to, reason: opts.reason, db: opts.db as DbChoice | undefined, acceptDataLoss: opts.acceptDataLoss }));
      render(outcome, Boolean(globalOptions(cmd).json));
    });
}

function parseChangeTypes(values: string[] | undefined): ChangeType[] {
  const types = (values ?? []).flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
  for (const t of types) {
    if (!(CHANGE_TYPES as readonly string[]).includes(t)) throw badInput(`unknown change type "${t}"`, { where: '--change-type', hint: `Use one of: ${CHANGE_TYPES.join(', ')}.` });
  }
  return types as ChangeType[];
}

function render(outcome: DeploymentOutcome, json: boolean): void {
  process.exitCode = outcome.ok ? ExitCode.ok : outcome.refused ? ExitCode.refused : ExitCode.failed;
  if (json) {
    printJson(outcome);
    return;
  }
  const what = `${outcome.kind} #${outcome.deploymentId} of ${outcome.version} to ${outcome.env}`;
  if (outcome.ok) {
    line(`${pc.green('✓')} ${what} succeeded${outcome.fromVersion ? ` (was ${outcome.fromVersion})` : ''}`);
    for (const note of outcome.health?.notes ?? []) line(`  ${pc.yellow('note:')} ${note}`);
    return;
  }
  line(`${pc.red('✗')} ${what} failed at ${outcome.failedStep ?? 'an unknown step'}: ${outcome.error ?? 'no detail'}`);
  if (outcome.hint) line(`  ${outcome.hint}`);
  if (outcome.restoredWithoutStore) {
    const r = outcome.restoredWithoutStore;
    line(r.ok ? `${pc.green('✓')} ${outcome.env} is back on ${r.version} (restored without the store)` : `${pc.red('✗')} returning ${outcome.env} to ${r.version} failed too: ${r.error ?? ''}; run \`shipgate status --env ${outcome.env}\``);
  }
  if (outcome.rollback) {
    const rb = outcome.rollback;
    line(rb.ok ? `${pc.green('✓')} ${outcome.env} is back on ${rb.version} (rollback #${rb.deploymentId})` : `${pc.red('✗')} the automatic rollback to ${rb.version} failed too: ${rb.error ?? ''}; run \`shipgate status --env ${outcome.env}\``);
    if (!rb.ok && rb.hint) line(`  ${rb.hint}`);
  }
}
