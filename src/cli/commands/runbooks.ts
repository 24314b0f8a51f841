import type { Command } from 'commander';
import pc from 'picocolors';
import type { AppContext } from '../../app/context.js';
import type { SafetyStatus } from '../../app/safety.js';
import type { RunbookStep } from '../../app/safety-change.js';
import { describeFlag, type FlagReading } from '../../core/safety-state.js';
import { parseDuration } from '../../core/duration.js';
import { badInput, ExitCode } from '../../core/errors.js';
import { line, printJson, table } from '../output.js';
import { commandPath, configOrRunbookMode, guardContinuity } from '../shared.js';

interface RunbookOptions {
  env: string;
  redisUrl?: string;
  json?: boolean;
}

/** The runbooks and what they reach (Redis, the broker), loaded when one runs, not for --help. */
async function runbookModules() {
  const [breaker, killswitch, safety, change] = await Promise.all([
    import('../../app/runbooks/breaker.js'),
    import('../../app/runbooks/killswitch.js'),
    import('../../app/safety.js'),
    import('../../app/safety-change.js'),
  ]);
  return { ...breaker, ...killswitch, ...safety, ...change };
}
type RunbookModules = Awaited<ReturnType<typeof runbookModules>>;

async function withRunbook<T>(cmd: Command, opts: RunbookOptions, run: (ctx: AppContext, rb: RunbookModules) => Promise<T>): Promise<T> {
  const [{ createContext }, { flushNotifications }, { consoleProgress }, rb] = await Promise.all([
    import('../../app/context.js'),
    import('../../app/notify.js'),
    import('../progress.js'),
    runbookModules(),
  ]);
  const ctx = await createContext(await configOrRunbookMode(cmd, opts.env), { progress: opts.json ? undefined : consoleProgress() });
  try {
    // Stopping trading (kill switch on, breaker trip) must work even on a store that lost its
    // history; re-enabling it must not.
    await guardContinuity(ctx, commandPath(cmd), { readOnly: ['status', 'preconditions', 'on', 'trip'].includes(cmd.name()) });
    return await run(ctx, rb);
  } finally {
    await flushNotifications(10_000);
    await ctx.connections.closeAll();
    await ctx.store.close();
  }
}

const common = (c: Command) => c.option('--env <env>', 'environment', 'production').option('--redis-url <url>', 'Redis holding cb:state and killswitch:active (default: config, then SHIPGATE_REDIS_URL)').option('--json', 'print JSON');

/** The platform's own word with shipgate's meaning beside it: "ON (halted)", never a translation. */
function flagWord(r: FlagReading): string {
  const text = describeFlag(r);
  return r.meaning === 'trading' ? pc.green(text) : r.meaning === 'halted' ? pc.red(text) : pc.yellow(text);
}

function renderStatus(s: SafetyStatus | null): void {
  if (!s) return line(pc.red('the safety state could not be read back'));
  const b = s.state.breaker;
  line(`${pc.bold(s.env)} breaker ${flagWord(b)}${s.tripReason && b.meaning !== 'trading' ? ` (${s.tripReason})` : ''}; kill switch ${flagWord(s.state.killSwitch)}; last reset ${s.lastReset ?? '-'} [${s.source}]`);
  for (const r of [b, s.state.killSwitch].filter((x) => x.meaning === 'unknown' || x.value === null)) line(pc.yellow(`  ${r.explanation}`));
}

function renderSteps(steps: RunbookStep[]): void {
  if (steps.length) line(table([['STEP', 'OK', 'DETAIL'], ...steps.map((x) => [x.step, x.ok ? 'yes' : pc.red('NO'), x.detail])]));
}

export function registerRunbookCommands(program: Command): void {
  const breaker = program.command('breaker').description('the circuit breaker runbook: status, trip, reset (preconditions + a second person)');
  common(breaker.command('status').description('the breaker and the kill switch in the platform\'s own words, with their meaning (trading, halted, unknown)')).action(async (opts: RunbookOptions, cmd: Command) => {
    const status = await withRunbook(cmd, opts, (ctx, rb) => rb.readSafety(ctx, opts.env, rb.safetyStoreFor(ctx, opts.env, opts)));
    if (opts.json) printJson(status);
    else renderStatus(status);
  });
  common(breaker.command('preconditions').description('what `breaker reset` would check now: each precondition, the kill switch and the open approval; changes nothing')).action(async (opts: RunbookOptions, cmd: Command) => {
    const check = await withRunbook(cmd, opts, (ctx, rb) => rb.resetCheck(ctx, opts.env, rb.safetyStoreFor(ctx, opts.env, opts)));
    if (opts.json) return printJson(check);
    renderStatus(check.status);
    if (check.status.state.breaker.meaning === 'trading') return line('nothing to reset');
    line(table([['PRECONDITION', 'STATE', 'DETAIL'], ...check.preconditions.map((p) => [p.name, p.blocking ? pc.red(p.state) : p.state === 'met' ? pc.green(p.state) : p.state, p.detail])]));
    line(check.refusals.length ? pc.red(`a reset would be refused: ${check.refusals.join('; ')}`) : 'nothing blocks a reset but the approval');
    line(check.approval ? `approval #${check.approval.id}: ${check.approval.state}, ${check.approval.approvers.length}/${check.approval.required} (requested by ${check.approval.requester})` : 'no open approval request');
  });
  common(breaker.command('trip').description('halt trading: cb:state TRIPPED with the reason and time'))
    .requiredOption('--reason <text>', 'why')
    .addHelpText('after', '\nExample:\n  shipgate breaker trip --env production --reason "drawdown 6% > 5% limit"')
    .action(async (opts: RunbookOptions & { reason: string }, cmd: Command) => {
      const status = await withRunbook(cmd, opts, (ctx, rb) => rb.tripBreaker(ctx, opts.env, rb.safetyStoreFor(ctx, opts.env, opts), opts.reason));
      process.exitCode = status.ok ? ExitCode.ok : ExitCode.failed;
      if (opts.json) return printJson(status);
      renderSteps(status.steps);
      renderStatus(status);
    });
  common(breaker.command('reset').description('back to OPEN: every precondition shown and met, approved by someone other than you; --force needs the emergency approvals'))
    .option('--force', 'override failing preconditions (admin approval, recorded as forced)')
    .option('--reason <text>', 'why (required with --force)')
    .addHelpText('after', '\nExamples:\n  shipgate breaker reset --env production\n  shipgate approve 12 --by bob && shipgate breaker reset --env production')
    .action(async (opts: RunbookOptions & { force?: boolean; reason?: string }, cmd: Command) => {
      const result = await withRunbook(cmd, opts, (ctx, rb) => rb.resetBreaker(ctx, opts.env, rb.safetyStoreFor(ctx, opts.env, opts), opts));
      process.exitCode = result.ok ? ExitCode.ok : ExitCode.failed;
      if (opts.json) return printJson(result);
      if (result.alreadyOpen) return line(`the breaker of ${opts.env} is ${flagWord(result.status.state.breaker)}; nothing to reset`);
      line(table([['PRECONDITION', 'STATE', 'DETAIL'], ...result.preconditions.map((p) => [p.name, p.state, p.detail])]));
      renderSteps(result.steps);
      renderStatus(result.status);
    });

  const ks = program.command('killswitch').description('the kill switch runbook: stop trading, cancel every open order, optionally flatten');
  common(ks.command('status').description('killswitch:active, the breaker and the broker\'s open orders')).action(async (opts: RunbookOptions, cmd: Command) => {
    const status = await withRunbook(cmd, opts, (ctx, rb) => rb.killSwitchStatus(ctx, opts.env, rb.safetyStoreFor(ctx, opts.env, opts)));
    if (opts.json) return printJson(status);
    renderStatus(status);
    line(status.broker ? `broker ${status.broker}: ${status.openOrders ?? 'unknown'} open orders${status.brokerProblem ? ` (${status.brokerProblem})` : ''}` : 'no broker configured');
  });
  common(ks.command('on').description('kill switch on, breaker TRIPPED, every open order cancelled and confirmed; exits 0 only when none is left'))
    .requiredOption('--reason <text>', 'why')
    .option('--flatten', 'also close every position')
    .option('--timeout <duration>', 'how long to wait for the orders to be gone (default trading.cancelTimeout, 30s)')
    .addHelpText('after', '\nExample:\n  shipgate killswitch on --env production --reason "runaway strategy on AAPL"')
    .action(async (opts: RunbookOptions & { reason: string; flatten?: boolean; timeout?: string }, cmd: Command) => {
      const timeoutMs = opts.timeout === undefined ? undefined : parseDuration(opts.timeout);
      if (opts.timeout !== undefined && timeoutMs === undefined) throw badInput(`--timeout ${JSON.stringify(opts.timeout)} is not a duration`, { where: '--timeout', hint: 'e.g. --timeout 45s' });
      const result = await withRunbook(cmd, opts, (ctx, rb) => rb.killSwitchOn(ctx, opts.env, rb.safetyStoreFor(ctx, opts.env, opts), { reason: opts.reason, flatten: opts.flatten, ...(timeoutMs !== undefined ? { timeoutMs } : {}) }));
      process.exitCode = result.ok ? ExitCode.ok : ExitCode.failed;
      if (opts.json) return printJson(result);
      renderSteps(result.steps);
      renderStatus(result.status);
      line(`orders: ${result.openAtStart ?? '?'} open at start, ${result.cancelRequested} cancels accepted, ${result.openLeft ?? 'unknown'} left`);
      if (result.stuck.length) line(table([['ORDER', 'SYMBOL', 'STATUS', 'WHY'], ...result.stuck.map((o) => [o.id, o.symbol, o.status, o.reason])]));
      if (result.flatten) line(`flatten: ${result.flatten.closed} positions closed, ${result.flatten.failed.length} failed`);
      if (result.problem) line(pc.red(result.problem));
      line(`incident #${result.incidentId}`);
    });
  common(ks.command('off').description('kill switch off after an approval and a clean reconciliation; the breaker stays TRIPPED until `breaker reset`'))
    .option('--reason <text>', 'why')
    .action(async (opts: RunbookOptions & { reason?: string }, cmd: Command) => {
      const result = await withRunbook(cmd, opts, (ctx, rb) => rb.killSwitchOff(ctx, opts.env, rb.safetyStoreFor(ctx, opts.env, opts), opts));
      process.exitCode = result.ok ? ExitCode.ok : ExitCode.failed;
      if (opts.json) return printJson(result);
      renderSteps(result.steps);
      renderStatus(result.status);
      if (!result.alreadyOff) line(`reconciliation: ${result.reconciliation?.reason}; the breaker stays ${result.status.breaker} until \`shipgate breaker reset --env ${opts.env}\``);
    });
}
