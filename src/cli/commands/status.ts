import type { Command } from 'commander';
import pc from 'picocolors';
import type { ControllerStatus } from '../../app/controller-status.js';
import type { EnvironmentStatus } from '../../app/status.js';
import { ExitCode } from '../../core/errors.js';
import { line, printJson, table } from '../output.js';
import { globalOptions, parsePositiveInt, withContext } from '../shared.js';

export function registerStatusCommands(program: Command): void {
  program
    .command('status')
    .description('per environment: current and previous good versions, the last deployment, the lock and each service\'s health')
    .option('--env <env>', 'only this environment')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExample:\n  shipgate status --env production')
    .action(async (opts: { env?: string }, cmd: Command) => {
      const [{ environmentStatuses }, { controllerStatus }] = await Promise.all([import('../../app/status.js'), import('../../app/controller-status.js')]);
      const { statuses, controller } = await withContext(cmd, async (ctx) => {
        // Each environment resolved once (an unknown --env is refused here), then passed down.
        const envs = (opts.env ? [opts.env] : Object.keys(ctx.config.environments)).map((e) => ctx.environment(e));
        const [statuses, controller] = await Promise.all([environmentStatuses(ctx, envs), controllerStatus(ctx)]);
        return { statuses, controller };
      }, { readOnly: true });
      if (globalOptions(cmd).json) printJson({ environments: statuses, controller });
      else {
        statuses.forEach(renderStatus);
        renderController(controller);
      }
    });

  program
    .command('health')
    .description('check every service\'s health URL once; optionally restart the unhealthy ones')
    .argument('<env>', 'environment name')
    .option('--restart-unhealthy', 'restart each unhealthy service and check it again')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExample:\n  shipgate health production --restart-unhealthy')
    .action(async (env: string, opts: { restartUnhealthy?: boolean }, cmd: Command) => {
      const { environmentHealth } = await import('../../app/health-check.js');
      const result = await withContext(cmd, (ctx) => environmentHealth(ctx, env, { restartUnhealthy: opts.restartUnhealthy }));
      process.exitCode = result.healthy ? ExitCode.ok : ExitCode.failed;
      if (globalOptions(cmd).json) printJson(result);
      else {
        line(table([['SERVICE', 'HEALTH', 'DETAIL'], ...result.services.map((s) => [s.service, s.healthy ? pc.green('healthy') : pc.red('unhealthy'), s.reason])]));
        if (result.restarted.length) line(`restarted: ${result.restarted.join(', ')}`);
        if (result.strays.length) line(pc.yellow(`not on record (stopped by the next deploy, rollback or resume): ${result.strays.map((x) => `pid ${x.pid} (${x.command})`).join(', ')}`));
      }
    });

  program
    .command('logs')
    .description('the last lines of a service\'s log (or of every service)')
    .argument('<env>', 'environment name')
    .argument('[service]', 'one service')
    .option('--tail <n>', 'number of lines', '100')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExample:\n  shipgate logs production execution_gateway --tail 50')
    .action(async (env: string, service: string | undefined, opts: { tail: string }, cmd: Command) => {
      const tail = parsePositiveInt(opts.tail, '--tail');
      const { environmentLogs } = await import('../../app/health-check.js');
      const logs = await withContext(cmd, (ctx) => environmentLogs(ctx, env, service, tail), { readOnly: true });
      if (globalOptions(cmd).json) printJson({ env, logs });
      else for (const l of logs) {
        line(pc.bold(`==> ${l.service} <==`));
        l.lines.forEach((x) => line(x));
      }
    });
}

function renderController(c: ControllerStatus): void {
  const leader = c.leader ? `${c.leader.owner} leads (generation ${c.leader.generation}, since ${c.leader.since}, lease until ${c.leader.leaseUntil})` : pc.yellow('no controller leads: soaks and monitors are not evaluated (start `shipgate serve`)');
  line(pc.bold('controller') + `  ${leader}`);
  for (const s of c.standbys) line(`  standby ${s.id} (last seen ${s.seenAt})`);
  if (c.silent) line(pc.yellow(`  ${c.silent} controller(s) silent for over three leases (gone without stopping cleanly): ${c.silentControllers.map((m) => `${m.id} (${m.role}, last seen ${m.seenAt})`).join(', ')}`));
}

function renderStatus(s: EnvironmentStatus): void {
  const previous = s.previousUnproven ? `previous ${s.previousGoodVersion} ${pc.yellow(`(not proven good: ${s.previousUnproven})`)}` : `previous good ${s.previousGoodVersion ?? '-'}`;
  line(pc.bold(`${s.env}`) + `  current ${s.currentVersion ?? '-'}  ${previous}`);
  if (s.deployment) {
    const d = s.deployment;
    const state = d.state === 'succeeded' ? pc.green(d.state) : d.state === 'running' ? pc.cyan(d.state) : pc.red(d.state);
    line(`  last ${d.kind} #${d.id} ${d.version}: ${state} at ${d.finishedAt ?? d.startedAt} by ${d.actor}${d.lastStep ? `, last step ${d.lastStep}` : ''}${d.error ? ` (${d.error})` : ''}`);
    if (d.kind === 'stop' && d.state === 'succeeded') line(pc.yellow(`  stopped: nothing of ${s.env} runs; start it with \`shipgate rollback ${s.env} --reason "..."\` or deploy a version`));
    // `current` is the last release that finished here; after a failed deploy or rollback that stopped it, it does not run.
    if (d.state === 'failed' && s.services.length && s.services.every((x) => x.process !== 'running' && !x.healthy)) {
      line(pc.yellow(`  nothing of ${s.env} runs: ${d.kind} #${d.id} failed at ${d.lastStep?.replace(/ \(failed\)$/, '') ?? 'a step'} with no service up${s.currentVersion ? ` (current ${s.currentVersion} is the last release that finished, not what runs)` : ''}; start it with \`shipgate rollback ${s.env} --to <version> --reason "..."\` or deploy a version`));
    }
    if (d.state === 'interrupted') line(pc.yellow(`  interrupted: finish with \`shipgate deploy ${s.env} --resume\` or \`shipgate rollback ${s.env} --reason "..."\``));
  }
  if (s.lock) line(`  locked by ${s.lock.actor} (${s.lock.reason}) since ${s.lock.since}${s.lock.stale ? pc.yellow(' [stale]') : ''}`);
  if (s.monitor) line(`  monitor #${s.monitor.id} of ${s.monitor.version} (phase ${s.monitor.phase})${s.monitor.blind ? pc.red(` BLIND since ${s.monitor.blind.since}: ${s.monitor.blind.reason}`) : ''}`);
  if (s.strays.length) line(pc.yellow(`  not on record (stopped by the next deploy, rollback or resume): ${s.strays.map((x) => `pid ${x.pid} (${x.command})`).join(', ')}`));
  line(table([['  SERVICE', 'PROCESS', 'PID', 'HEALTH'], ...s.services.map((x) => [`  ${x.service}`, x.process, x.pid ? String(x.pid) : '-', x.healthy ? pc.green(x.health) : pc.red(x.health)])]));
}
