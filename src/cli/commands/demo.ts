import type { Command } from 'commander';
import pc from 'picocolors';
import { badInput, ExitCode } from '../../core/errors.js';
import { line, printJson, table } from '../output.js';

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('the whole story on a sample trading stack: soak, promote, a staging catch, a production regression rolled back automatically; no config, no servers')
    .option('--json', 'print a summary object')
    .option('--speed <factor>', 'how many times faster than real time soaks and monitors run', '7200')
    .option('--keep', 'keep the demo\'s work directory (its shipgate.yml, store and logs)')
    .option('--serve', 'serve the control room API on a free loopback port while the demo runs; prints its URL and a viewer token')
    .addHelpText('after', '\nExamples:\n  shipgate demo\n  shipgate demo --speed 3600 --json\n  shipgate demo --serve --speed 600')
    .action(async (opts: { json?: boolean; keep?: boolean; speed: string; serve?: boolean }) => {
      const speed = Number(opts.speed);
      if (!(speed >= 1 && speed <= 100_000)) throw badInput(`--speed must be a number from 1 to 100000, got ${JSON.stringify(opts.speed)}`, { where: '--speed', hint: 'For example --speed 7200 runs a 24 h soak in 12 s.' });
      const json = Boolean(opts.json);
      const [{ runDemo }, { consoleProgress }] = await Promise.all([import('../../demo/story.js'), import('../progress.js')]);
      const summary = await runDemo({
        speed,
        progress: json ? undefined : consoleProgress(),
        say: json ? undefined : (text) => line(pc.bold(`\n▸ ${text}`)),
        keep: opts.keep,
        serve: Boolean(opts.serve),
      });
      process.exitCode = summary.ok ? ExitCode.ok : ExitCode.failed;
      if (json) return printJson(summary);
      line(pc.bold('\n▸ timeline (from the audit log; seconds of real time since the start)'));
      line(table([['T+S', 'ACTION', 'ENV', 'VERSION', 'OUTCOME', 'REASON'], ...summary.timeline.map((t) => [t.realSeconds.toFixed(1), t.action, t.env ?? '-', t.version ?? '-', t.outcome, (t.reason ?? '').slice(0, 110)])]));
      const r = summary.regression;
      if (r) line(`\nproduction regression ${r.version}: ${r.trigger} detected ${r.detectedAfterSeconds}s after it went live; back on ${r.rolledBackTo} after ${r.restoredAfterSeconds}s (incident #${r.incidentId})`);
      if (summary.incidentReport) line(`incident report: ${summary.incidentReport.file}${opts.keep ? '' : ' (removed with the work directory; use --keep)'}`);
      line(`notifications delivered: ${summary.notifications.length} (${[...new Set(summary.notifications.map((n) => n.event))].join(', ')})`);
      const annotations = summary.notifications.filter((n) => n.channel === 'grafana' && !n.unauthorized);
      line(`Grafana annotations: ${annotations.length} (${[...new Set(annotations.map((n) => n.event))].join(', ')})`);
      const k = summary.killSwitchDrill;
      if (k) line(`kill-switch drill: ${k.ordersPlaced} orders placed, ${k.afterKill.openOrders} open after \`killswitch on\`, breaker ${k.afterKill.breaker}; reset approved by ${k.approvedBy.join(' and ')} -> ${k.afterReset.breaker}`);
      line(`audit chain ${summary.auditVerified ? 'verified' : 'BROKEN'}; every demo process ${summary.stopped ? 'stopped' : 'NOT stopped'}${opts.keep ? `; kept ${summary.workDir}` : ''}`);
      line(summary.ok ? pc.green('demo ok') : pc.red('demo failed'));
    });
}
