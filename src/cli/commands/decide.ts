import type { Command } from 'commander';
import pc from 'picocolors';
import { decide, DECISION_RULES_HELP, type DecisionInput } from '../../core/decide.js';
import { parseDuration } from '../../core/duration.js';
import { badInput } from '../../core/errors.js';
import { line, printJson } from '../output.js';
import { globalOptions, parsePositiveInt } from '../shared.js';

interface DecideOptions {
  affected?: string;
  dataIntegrityAtRisk?: boolean;
  rootCauseKnown?: boolean;
  fixEta?: string;
  components?: string;
  fixTested?: boolean;
  rollbackLosesData?: boolean;
  nonCritical?: boolean;
  critical?: boolean;
  json?: boolean;
}

export function registerDecideCommand(program: Command): void {
  program
    .command('decide')
    .description('during an incident: should you roll back or fix forward? (the runbook\'s rules; needs no shipgate.yml)')
    .option('--affected <share>', 'share of users/trades affected: 0.3 or 30%')
    .option('--data-integrity-at-risk', 'data integrity is at risk')
    .option('--no-data-integrity-at-risk', 'data integrity is NOT at risk')
    .option('--root-cause-known', 'the root cause is clearly identified')
    .option('--no-root-cause-known', 'the root cause is unknown')
    .option('--fix-eta <duration>', 'how long the fix will take, with a unit: 45m, 2h')
    .option('--components <n>', 'how many components are affected')
    .option('--fix-tested', 'a fix is available and tested')
    .option('--no-fix-tested', 'no tested fix is available')
    .option('--rollback-loses-data', 'rolling back would lose data')
    .option('--no-rollback-loses-data', 'rolling back loses no data')
    .option('--non-critical', 'the issue is isolated to a non-critical feature')
    .option('--no-non-critical', 'the issue touches a critical feature (same as --critical)')
    .option('--critical', 'the issue touches a critical feature')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      `${DECISION_RULES_HELP}
Examples:
  shipgate decide --affected 60% --root-cause-known
  shipgate decide --affected 5% --root-cause-known --fix-tested --non-critical --no-data-integrity-at-risk --json
`,
    )
    .action((opts: DecideOptions, cmd: Command) => {
      const input = decisionInput(opts);
      const decision = decide(input);
      if (globalOptions(cmd).json) return printJson({ ok: true, ...decision, input });
      const head = decision.recommendation === 'rollback' ? pc.red(pc.bold('ROLLBACK')) : pc.green(pc.bold('FIX FORWARD'));
      const how = decision.needsPerson ? pc.yellow('rules conflict: a person must decide') : decision.confident ? 'confident' : pc.yellow('not confident: when in doubt, roll back');
      line(`${head}  (${how})`);
      line(decision.explanation);
      if (decision.rulesFired.length) line(`rules: ${decision.rulesFired.map((r) => `${r.rule} -> ${r.points}`).join(', ')}`);
      if (decision.unknowns.length) line(`unknown: ${decision.unknowns.join(', ')}`);
    });
}

/** Flags to decision inputs; a flag left out stays undefined (unknown). Bad values exit 2. */
export function decisionInput(opts: DecideOptions): DecisionInput {
  const input: DecisionInput = {};
  if (opts.affected !== undefined) input.affectedShare = parseShare(opts.affected, '--affected');
  if (opts.dataIntegrityAtRisk !== undefined) input.dataIntegrityAtRisk = opts.dataIntegrityAtRisk;
  if (opts.rootCauseKnown !== undefined) input.rootCauseKnown = opts.rootCauseKnown;
  if (opts.fixEta !== undefined) input.fixEtaMinutes = parseEtaMinutes(opts.fixEta, '--fix-eta');
  if (opts.components !== undefined) input.componentsAffected = parsePositiveInt(opts.components, '--components');
  if (opts.fixTested !== undefined) input.fixAvailableAndTested = opts.fixTested;
  if (opts.rollbackLosesData !== undefined) input.rollbackLosesData = opts.rollbackLosesData;
  if (opts.critical && opts.nonCritical === true) {
    throw badInput('--critical and --non-critical contradict each other', { where: '--critical', hint: 'Give one of them (or neither, if you do not know).' });
  }
  if (opts.critical) input.criticalFeature = true;
  else if (opts.nonCritical !== undefined) input.criticalFeature = !opts.nonCritical;
  return input;
}

function parseShare(value: string, flag: string): number {
  const text = value.trim();
  const percent = /^(\d+(?:\.\d+)?)\s*%$/.exec(text);
  const share = percent ? Number(percent[1]) / 100 : /^(\d+(?:\.\d+)?|\.\d+)$/.test(text) ? Number(text) : NaN;
  if (!Number.isFinite(share) || share < 0 || share > 1) {
    const bare = Number(text);
    const hint = !percent && Number.isFinite(bare) && bare > 1 && bare <= 100 ? `Did you mean ${flag} ${text}%?` : `Give a share between 0 and 1 or a percentage, e.g. ${flag} 0.3 or ${flag} 30%.`;
    throw badInput(`${flag} must be a share between 0 and 1 or a percentage from 0% to 100%, got ${JSON.stringify(value)}`, { where: flag, hint });
  }
  return share;
}

function parseEtaMinutes(value: string, flag: string): number {
  const text = value.trim();
  // A bare number would mean seconds elsewhere in shipgate, which is never what "fix ETA 45" means.
  const ms = /[a-z]$/i.test(text) ? parseDuration(text) : undefined;
  if (ms === undefined) {
    throw badInput(`${flag} must be a duration with a unit, got ${JSON.stringify(value)}`, { where: flag, hint: `For example ${flag} 45m or ${flag} 2h.` });
  }
  return ms / 60_000;
}
