import type { Command } from 'commander';
import pc from 'picocolors';
import type { TickReport } from '../../app/controller.js';
import type { AppContext } from '../../app/context.js';
import type { LeadershipEvent } from '../../app/leadership.js';
import { badInput } from '../../core/errors.js';
import { formatDuration, parseDuration } from '../../core/duration.js';
import { line, printJson, table } from '../output.js';
import { globalOptions, withContext } from '../shared.js';

export function registerAnalysisCommands(program: Command): void {
  const soak = program.command('soak').description('staging soaks: the timed observation a release must pass before promotion');
  soak
    .command('status')
    .description('version, start, required and remaining time, each gate\'s verdict history, and the overall verdict')
    .option('--env <env>', 'only this environment')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExample:\n  shipgate soak status --env staging')
    .action(async (opts: { env?: string }, cmd: Command) => {
      const { soakViews } = await import('../../app/soak-status.js');
      const views = await withContext(cmd, (ctx) => soakViews(ctx, opts.env), { readOnly: true });
      if (globalOptions(cmd).json) return printJson({ soaks: views });
      if (!views.length) return line('no soaks yet: a deploy to an environment with `soak:` starts one');
      for (const v of views.slice(0, 3)) {
        const colour = v.state === 'passed' ? pc.green : v.state === 'running' ? pc.cyan : pc.red;
        line(`${pc.bold(`soak #${v.id}`)} ${v.env} ${v.version}: ${colour(v.verdict)}  ${formatDuration(v.elapsedMs)} of ${v.required} (${v.soakClass}: ${v.changeTypes.join(', ') || 'standard changes'})${v.state === 'running' ? `, ${formatDuration(v.remainingMs)} left` : ''}`);
        line(`  inconclusive ${(v.inconclusiveShare * 100).toFixed(1)}%; ${v.changeSource}${v.reason ? `\n  ${v.reason}` : ''}`);
        if (v.gates.length) line(table([['  GATE', 'NOW', 'HISTORY', 'DETAIL'], ...v.gates.map((g) => [`  ${g.name}`, g.verdict, g.history.map((h) => `${h.verdict}×${h.count}`).join(' '), `${g.reason}${g.errors?.total ? ` [source errors: ${g.errors.consecutive} in a row, ${g.errors.total} in all]` : ''}${g.baseline ? ` [baseline ${g.baseline}]` : ''}`])]));
      }
    });

  program
    .command('monitors')
    .description('production monitors: phase, checks, warnings, trigger and rollback')
    .option('--env <env>', 'only this environment')
    .option('--json', 'print JSON')
    .action(async (opts: { env?: string }, cmd: Command) => {
      const { monitorViews } = await import('../../app/soak-status.js');
      const views = await withContext(cmd, (ctx) => monitorViews(ctx, opts.env), { readOnly: true });
      if (globalOptions(cmd).json) return printJson({ monitors: views });
      if (!views.length) return line('no monitors yet: a deploy to an environment with `monitor:` starts one');
      for (const m of views.slice(0, 3)) {
        line(`${pc.bold(`monitor #${m.id}`)} ${m.env} ${m.version}: ${m.blind ? pc.red(m.status) : m.state} (phase ${m.phase})${m.reason ? ` — ${m.reason}` : ''}`);
        for (const c of m.checks) line(`  ${c.name}: ${c.verdict} ${c.reason}${c.errors?.total ? ` [source errors: ${c.errors.consecutive} in a row, ${c.errors.total} in all]` : ''}${c.baseline ? ` [baseline ${c.baseline}]` : ''}${c.warning ? pc.yellow(` ! ${c.warning}`) : ''}`);
        for (const w of m.warnings.slice(-5)) line(pc.yellow(`  ! [${w.phase}] ${w.message}`));
      }
    });

  program
    .command('watch')
    .description('run the soaks and monitors in the foreground until none is running')
    .option('--json', 'print one JSON line per finished soak or monitor')
    .addHelpText('after', '\nExample:\n  shipgate watch')
    .action(async (_opts, cmd: Command) => {
      const json = Boolean(globalOptions(cmd).json);
      const [{ runController }, { runControllerMember }] = await Promise.all([import('../../app/controller.js'), import('../../app/leadership.js')]);
      await withContext(cmd, async (ctx) => {
        // One evaluator per store: two would both act on the same trigger. A watch leads or is refused.
        await runControllerMember(ctx, {
          leaseMs: ctx.config.controller.lease, signal: new AbortController().signal, standby: false, say: () => undefined,
          lead: (fenced, lost) => runController(fenced, { intervalMs: loopInterval(ctx), until: 'idle', signal: lost, onTick: (r) => report(r, json) }),
        });
      });
    });

  program
    .command('serve')
    .description('run the controller as a daemon: evaluates soaks and monitors, resumes after a restart; several on one store elect one leader, the others stand by')
    .option('--json', 'print one JSON line per finished soak or monitor, and the periodic stats as JSON')
    .option('--stats-every <duration>', 'how often to print the controller\'s pass count and evaluation lag (due to verdict stored: p50, p99, max)', '60s')
    .option('--http <host:port>', 'also serve the control room API (JSON, server-sent events, /metrics) here; loopback unless TLS or --insecure-bind')
    .option('--tls-cert <file>', 'serve HTTPS with this PEM certificate (with --tls-key)')
    .option('--tls-key <file>', 'the PEM private key of --tls-cert')
    .option('--insecure-bind', 'allow a non-loopback --http address without TLS (tokens and cookies cross the network in clear)')
    .addHelpText('after', '\nExamples:\n  shipgate serve &\n  shipgate serve --stats-every 10s\n  shipgate serve --http 127.0.0.1:8787\n  shipgate serve --http 0.0.0.0:8443 --tls-cert cert.pem --tls-key key.pem\n  # on a second host, same SHIPGATE_DATABASE_URL: stands by and takes over within 2 × controller.lease\n  shipgate serve')
    .action(async (opts: ServeFlags, cmd: Command) => {
      const json = Boolean(globalOptions(cmd).json);
      const statsEveryMs = parseStatsEvery(opts.statsEvery);
      const address = opts.http !== undefined ? await checkedAddress(opts.http, opts) : undefined;
      const [{ runController }, { record }, { TickStatsWindow, describeStats }, { runControllerMember }, { watchConfigDrift }] = await Promise.all([
        import('../../app/controller.js'), import('../../app/audit.js'), import('../../app/controller-stats.js'), import('../../app/leadership.js'), import('../../app/config-drift.js'),
      ]);
      await withContext(cmd, async (ctx) => {
        const stop = new AbortController();
        const onSignal = () => stop.abort();
        process.once('SIGTERM', onSignal);
        process.once('SIGINT', onSignal);
        // Every member serves the API, the standbys too: people read and act through whichever they reach.
        const api = address ? await startApi(ctx, address, opts) : undefined;
        const drift = await watchConfigDrift(ctx);
        const driftTimer = setInterval(() => {
          drift.check().then((message) => message && line(json ? JSON.stringify({ kind: 'config-changed', message, pid: ctx.pid }) : `warning: ${message}`), (err: Error) => line(`warning: could not check ${ctx.configFile}: ${err.message}`));
        }, CONFIG_DRIFT_CHECK_MS);
        driftTimer.unref();
        await record(ctx, { action: 'controller.start', outcome: 'ok', detail: { pid: ctx.pid, host: ctx.host, ...(api ? { api: api.url } : {}) } });
        if (!json) line(`shipgate controller running (pid ${ctx.pid}); stop with SIGTERM`);
        if (api) line(json ? JSON.stringify({ kind: 'api', url: api.url }) : `control room on ${api.url} (dashboard ${api.url}/; API GET /api/openapi.json; tokens: shipgate token create)`);
        try {
          await runControllerMember(ctx, {
            leaseMs: ctx.config.controller.lease, signal: stop.signal, standby: true,
            say: (e) => line(json ? JSON.stringify({ ...e, kind: 'controller', event: e.kind, pid: ctx.pid }) : describeLeadership(e)),
            lead: async (fenced, lost) => {
              const stats = new TickStatsWindow();
              let windowStart = Date.now();
              await runController(fenced, {
                intervalMs: loopInterval(ctx), until: 'forever', signal: lost,
                onTick: (r) => {
                  report(r, json);
                  api?.metrics.observeTick(r);
                  stats.add(r.timing);
                  if (Date.now() - windowStart < statsEveryMs) return;
                  windowStart = Date.now();
                  const s = stats.take();
                  line(json ? JSON.stringify({ kind: 'controller-stats', ...s }) : describeStats(s));
                },
              });
            },
          });
        } finally {
          clearInterval(driftTimer);
          await api?.close();
          await record(ctx, { action: 'controller.stop', outcome: 'ok', detail: { pid: ctx.pid, host: ctx.host } });
        }
      });
    });
}

/** How often `serve` looks at its config file for changes it is not applying. */
const CONFIG_DRIFT_CHECK_MS = 2000;

interface ServeFlags {
  statsEvery: string;
  http?: string;
  tlsCert?: string;
  tlsKey?: string;
  insecureBind?: boolean;
}

/** Refused before anything starts: a non-loopback address without TLS or --insecure-bind, or half a TLS pair. */
async function checkedAddress(text: string, opts: ServeFlags) {
  const { parseListen, checkBind } = await import('../../server/bind.js');
  const address = parseListen(text);
  if (Boolean(opts.tlsCert) !== Boolean(opts.tlsKey)) throw badInput('--tls-cert and --tls-key go together', { where: opts.tlsCert ? '--tls-key' : '--tls-cert', hint: 'Give both PEM files, or neither.' });
  checkBind(address, { tls: Boolean(opts.tlsCert), insecureBind: Boolean(opts.insecureBind) });
  return address;
}

async function startApi(ctx: AppContext, address: { host: string; port: number }, opts: ServeFlags) {
  const [{ startApiServer }, { installation }] = await Promise.all([import('../../server/start.js'), import('../../adapters/host/install.js')]);
  return startApiServer(ctx, { address, tlsCert: opts.tlsCert, tlsKey: opts.tlsKey, insecureBind: opts.insecureBind, version: installation().version });
}

function describeLeadership(e: LeadershipEvent): string {
  if (e.kind === 'standby') return `standing by: ${e.leader.owner} leads (generation ${e.leader.generation}, lease until ${e.leader.leaseUntil})`;
  if (e.kind === 'lead') return `leading as generation ${e.generation}${e.previous ? ` (took over from ${e.previous.owner}, generation ${e.previous.generation})` : ''}`;
  return `lost the lead (generation ${e.generation}): ${e.reason}${e.current ? `; ${e.current.owner} leads at generation ${e.current.generation}` : ''}; standing by`;
}

function parseStatsEvery(text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined || ms <= 0) throw badInput(`--stats-every must be a duration such as 60s or 5m, got ${JSON.stringify(text)}`, { where: '--stats-every', hint: 'For example --stats-every 60s.' });
  return ms;
}

function loopInterval(ctx: AppContext): number {
  const intervals = Object.values(ctx.config.environments).flatMap((e) => (e.analysis ? [e.analysis.interval] : []));
  return intervals.length ? Math.min(...intervals) : 1000;
}

function report(r: TickReport, json: boolean): void {
  for (const w of r.finished) {
    const data = w.data as { reason?: string | null };
    if (json) line(JSON.stringify({ kind: w.kind, id: w.id, env: w.env, version: w.version, state: w.state, reason: data.reason ?? null }));
    else line(`${w.kind} #${w.id} ${w.env} ${w.version}: ${w.state}${data.reason ? ` — ${data.reason}` : ''}`);
  }
}
