import type { Command } from 'commander';
import pc from 'picocolors';
import { decide, DECISION_RULES_HELP } from '../../core/decide.js';
import { decisionInput, type DecideOptions } from '../../core/decide-input.js';
import { line, printJson } from '../output.js';
import { globalOptions } from '../shared.js';

interface DecideFlags extends DecideOptions {
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
    .action((opts: DecideFlags, cmd: Command) => {
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
