// The controller at scale (issue 15): one `shipgate serve` watching 10 environments × 20 services
// (200 services), every environment evaluated each second (analysis.interval 1s, source: scrape),
// against one local server in this process that answers every service's /health and /metrics on
// the service's own port with a realistic Prometheus exposition (a prom-client Node service:
// request counters and histograms by route and code, process and nodejs default metrics; ~190
// samples, ~17 KB). Five environments soak a release (staging), five monitor one (production,
// immediate phase: health, metrics and error lines in the logs each pass).
//
// The environments' deployments are put on record the way a deploy leaves them (store records,
// the process target's run record and log files, then startWatches): running 200 real service
// processes on a 2-core machine would measure them, not the controller. Everything the
// controller does per pass is real: store reads and writes, 200 health probes, 200 scrapes and
// parses, the analysis, 100 log tails.
//
// Measured over the window after a warm-up, from /proc/<pid>: CPU share of one core
// ((utime + stime) / wall), RSS (steady median and peak VmHWM), and evaluation lag from
// `serve --json --stats-every 1ms` (one stats line per pass): from when a watch's evaluation was
// due to when its verdict was stored. Per pass the line gives the slowest evaluation; the p99 over
// passes of that maximum bounds the p99 over evaluations from above.
// Goals: CPU < 10 % of one core, memory < 200 MB, evaluation lag p99 < 200 ms.
// CONTROLLER_BENCH_SECONDS (default 90) sets the measured window; CONTROLLER_BENCH_CPU_PROF=<dir>
// runs the controller under --cpu-prof. `node bench/run.mjs controller-scale`.
import { spawn } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BIN = path.join(ROOT, 'bin', 'shipgate');
const dist = (p) => import(pathToFileURL(path.join(ROOT, 'dist', p)).href);

const SECONDS = Number(process.env.CONTROLLER_BENCH_SECONDS ?? 90);
const WARMUP_SECONDS = 10;
const CPU_PROF_DIR = process.env.CONTROLLER_BENCH_CPU_PROF;
// A diagnostic for a shared machine: CONTROLLER_BENCH_NICE=-10 runs the controller and the metrics
// server (this process) at that niceness (root only), so the other load cannot take their CPU.
const NICE = process.env.CONTROLLER_BENCH_NICE;
const GOALS = { cpuShareOfOneCore: 0.1, rssMiB: 200, evaluationLagP99Ms: 200 };
const SERVICES = [
  'signal_service', 'execution_gateway', 'orchestrator', 'market_data', 'risk_engine', 'position_keeper', 'order_router', 'fill_processor', 'pnl_service', 'reconciler',
  'reference_data', 'fx_rates', 'alerting', 'auth_service', 'audit_writer', 'scheduler', 'report_builder', 'feature_store', 'quote_cache', 'notification_hub',
];
const ENVIRONMENTS = [...Array.from({ length: 5 }, (_, i) => `staging-${i + 1}`), ...Array.from({ length: 5 }, (_, i) => `prod-${i + 1}`)];
const VERSION = 'v4.2.0';
const CLK_TCK = 100; // Linux USER_HZ: /proc/<pid>/stat counts CPU in 1/100 s

// ---------------------------------------------------------------------------------------------
// One process answering for 200 services, each on its own port, as a process target lays them out.

const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const GC_BUCKETS = [0.001, 0.01, 0.1, 1, 2, 5];
const ROUTES = ['/orders', '/positions', '/quotes', '/status', '/health', '/metrics'];

function exposition(env, service, seed, t) {
  const labels = (o) => `{${Object.entries(o).map(([k, v]) => `${k}="${v}"`).join(',')}}`;
  const out = [];
  const help = (name, type, text) => out.push(`# HELP ${name} ${text}`, `# TYPE ${name} ${type}`);
  help('http_requests_total', 'counter', 'Total HTTP requests handled, by status code.');
  ROUTES.forEach((route, r) => {
    const rate = (20 + ((seed * 7 + r * 13) % 40)) * (route === '/health' || route === '/metrics' ? 0.05 : 1);
    const total = Math.floor(rate * t) + 1000;
    const errors = Math.floor(total * 0.001);
    const clientErrors = Math.floor(total * 0.004);
    for (const method of route === '/orders' ? ['GET', 'POST'] : ['GET']) {
      out.push(`http_requests_total${labels({ service, env, method, route, code: '200' })} ${total - errors - clientErrors}`);
      out.push(`http_requests_total${labels({ service, env, method, route, code: '400' })} ${clientErrors}`);
      out.push(`http_requests_total${labels({ service, env, method, route, code: '500' })} ${errors}`);
    }
  });
  help('http_request_duration_seconds', 'histogram', 'HTTP request latency.');
  ROUTES.forEach((route, r) => {
    const count = Math.floor((20 + ((seed * 7 + r * 13) % 40)) * t) + 1000;
    // Cumulative shares per bound, so that each second's increments fall into the buckets alike (p95 ≈ 225 ms).
    BUCKETS.forEach((le, i) => {
      const share = [0.2, 0.5, 0.75, 0.9, 0.96, 0.985, 0.995, 0.998, 0.9995, 0.9999][i];
      out.push(`http_request_duration_seconds_bucket${labels({ service, env, route, le: String(le) })} ${Math.floor(count * share)}`);
    });
    out.push(`http_request_duration_seconds_bucket${labels({ service, env, route, le: '+Inf' })} ${count}`);
    out.push(`http_request_duration_seconds_sum${labels({ service, env, route })} ${(count * 0.031).toFixed(3)}`);
    out.push(`http_request_duration_seconds_count${labels({ service, env, route })} ${count}`);
  });
  const gauge = (name, text, value, extra = {}) => {
    help(name, 'gauge', text);
    out.push(`${name}${Object.keys(extra).length ? labels(extra) : ''} ${value}`);
  };
  const counter = (name, text, value) => {
    help(name, 'counter', text);
    out.push(`${name} ${value}`);
  };
  counter('process_cpu_user_seconds_total', 'Total user CPU time spent in seconds.', (t * 0.02).toFixed(6));
  counter('process_cpu_system_seconds_total', 'Total system CPU time spent in seconds.', (t * 0.005).toFixed(6));
  counter('process_cpu_seconds_total', 'Total user and system CPU time spent in seconds.', (t * 0.025).toFixed(6));
  gauge('process_start_time_seconds', 'Start time of the process since unix epoch in seconds.', 1764600000 + seed);
  gauge('process_resident_memory_bytes', 'Resident memory size in bytes.', 80_000_000 + seed * 1000);
  gauge('process_virtual_memory_bytes', 'Virtual memory size in bytes.', 1_100_000_000 + seed * 1000);
  gauge('process_heap_bytes', 'Process heap size in bytes.', 120_000_000 + seed);
  gauge('process_open_fds', 'Number of open file descriptors.', 30 + (seed % 7));
  gauge('process_max_fds', 'Maximum number of open file descriptors.', 1048576);
  for (const [name, text] of [['nodejs_eventloop_lag_seconds', 'Lag of event loop in seconds.'], ['nodejs_eventloop_lag_min_seconds', 'The minimum recorded event loop delay.'], ['nodejs_eventloop_lag_max_seconds', 'The maximum recorded event loop delay.'], ['nodejs_eventloop_lag_mean_seconds', 'The mean of the recorded event loop delays.'], ['nodejs_eventloop_lag_stddev_seconds', 'The standard deviation of the recorded event loop delays.']]) gauge(name, text, (0.01 + (seed % 5) / 1000).toFixed(6));
  help('nodejs_eventloop_lag_p50_seconds', 'gauge', 'The 50th percentile of the recorded event loop delays.');
  out.push(`nodejs_eventloop_lag_p50_seconds 0.010`, '# HELP nodejs_eventloop_lag_p90_seconds The 90th percentile.', '# TYPE nodejs_eventloop_lag_p90_seconds gauge', 'nodejs_eventloop_lag_p90_seconds 0.011', '# HELP nodejs_eventloop_lag_p99_seconds The 99th percentile.', '# TYPE nodejs_eventloop_lag_p99_seconds gauge', 'nodejs_eventloop_lag_p99_seconds 0.021');
  gauge('nodejs_active_handles_total', 'Total number of active handles.', 8);
  gauge('nodejs_active_requests_total', 'Total number of active requests.', 0);
  for (const metric of ['nodejs_heap_size_total_bytes', 'nodejs_heap_size_used_bytes', 'nodejs_external_memory_bytes']) gauge(metric, 'Process heap size from Node.js in bytes.', 50_000_000 + seed * 10);
  for (const metric of ['nodejs_heap_space_size_total_bytes', 'nodejs_heap_space_size_used_bytes', 'nodejs_heap_space_size_available_bytes']) {
    help(metric, 'gauge', 'Process heap space size from Node.js in bytes.');
    for (const space of ['read_only', 'new', 'old', 'code', 'map', 'large_object']) out.push(`${metric}${labels({ space })} ${1_000_000 + seed}`);
  }
  gauge('nodejs_version_info', 'Node.js version info.', 1, { version: 'v20.20.2', major: '20', minor: '20', patch: '2' });
  help('nodejs_gc_duration_seconds', 'histogram', 'Garbage collection duration by kind.');
  for (const kind of ['minor', 'major', 'incremental', 'weakcb']) {
    const count = Math.floor(t * 2) + 10;
    GC_BUCKETS.forEach((le, i) => out.push(`nodejs_gc_duration_seconds_bucket${labels({ kind, le: String(le) })} ${Math.floor((count * (i + 4)) / 10)}`));
    out.push(`nodejs_gc_duration_seconds_bucket${labels({ kind, le: '+Inf' })} ${count}`, `nodejs_gc_duration_seconds_sum${labels({ kind })} ${(count * 0.002).toFixed(6)}`, `nodejs_gc_duration_seconds_count${labels({ kind })} ${count}`);
  }
  gauge('build_info', 'Running version of the service; always 1.', 1, { service, env, version: VERSION });
  return `${out.join('\n')}\n`;
}

async function startServices(logDir) {
  const started = Date.now();
  const servers = [];
  const ports = {};
  const counts = { health: 0, metrics: 0, other: 0 };
  const logLines = new Map();
  let seed = 0;
  for (const env of ENVIRONMENTS) {
    ports[env] = {};
    for (const service of SERVICES) {
      const s = seed++;
      const cache = { at: -1, text: '' };
      const key = `${env}/${service}`;
      logLines.set(key, []);
      const server = http.createServer((req, res) => {
        const log = logLines.get(key);
        if (req.url === '/health') {
          counts.health++;
          log.push(`INFO GET /health 200 0ms`);
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ status: 'healthy', version: VERSION, service }));
        } else if (req.url === '/metrics') {
          counts.metrics++;
          log.push(`INFO GET /metrics 200 1ms`);
          // A service renders its registry per scrape; one render per second per service is as much.
          const second = Math.floor((Date.now() - started) / 1000);
          if (cache.at !== second) Object.assign(cache, { at: second, text: exposition(env, service, s, second + 3600) });
          res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
          res.end(cache.text);
        } else {
          counts.other++;
          res.writeHead(404).end();
        }
      });
      server.keepAliveTimeout = 65_000;
      await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
      ports[env][service] = server.address().port;
      servers.push(server);
    }
  }
  // The services' log files grow as they serve: one line per request, flushed each second.
  const flush = setInterval(() => {
    for (const [key, lines] of logLines) {
      if (!lines.length) continue;
      const [env, service] = key.split('/');
      appendFileSync(path.join(logDir, env, `${service}.log`), `${lines.map((l) => `${new Date().toISOString()} ${l}`).join('\n')}\n`);
      lines.length = 0;
    }
  }, 1000);
  const sample = exposition('prod-1', 'execution_gateway', 1, 3600);
  return {
    ports,
    counts,
    payload: { bytes: Buffer.byteLength(sample), samples: sample.split('\n').filter((l) => l && !l.startsWith('#')).length },
    async close() {
      clearInterval(flush);
      await Promise.all(servers.map((s) => new Promise((resolve) => { s.closeAllConnections?.(); s.close(resolve); })));
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The workspace: shipgate.yml, and each environment's deployment on record with its watch.

function configText(ports) {
  const lines = ['version: 1', 'project: bench_trading_desk', 'repository: .', 'stateDir: .shipgate', 'approvals: { identity: trust-local }', 'services:'];
  for (const service of SERVICES) {
    lines.push(`  ${service}:`, `    command: [node, ${service}/main.mjs]`, '    health: http://127.0.0.1:{port}/health', '    metrics: http://127.0.0.1:{port}/metrics');
  }
  lines.push('environments:');
  for (const env of ENVIRONMENTS) {
    lines.push(`  ${env}:`, '    target: { type: process }', '    services:');
    for (const service of SERVICES) lines.push(`      ${service}: { port: ${ports[env][service]} }`);
    lines.push(
      '    analysis:',
      '      interval: 1s',
      '      checks:',
      `        - { name: error-rate, type: error-rate, select: 'route="/orders"', target: 1%, limit: 5% }`,
      `        - { name: gateway-latency, type: latency, select: 'service="execution_gateway",route="/orders"', max: 500ms }`,
      `        - { name: risk-engine-up, type: gauge, metric: build_info, select: 'service="risk_engine"', equals: 1 }`,
    );
    lines.push(env.startsWith('prod') ? '    monitor: { autoRollback: true }' : '    soak: { maxInconclusive: 10% }');
  }
  return `${lines.join('\n')}\n`;
}

async function seed(dir) {
  const [{ loadConfig }, { createContext }, { startWatches }, { startMarker }] = await Promise.all([dist('config/load.js'), dist('app/context.js'), dist('app/watches.js'), dist('adapters/targets/target.js')]);
  const ctx = await createContext(loadConfig(undefined, dir), { env: { ...process.env, SHIPGATE_ACTOR: 'bench' } });
  try {
    for (const env of ENVIRONMENTS) {
      const at = new Date().toISOString();
      await ctx.store.recordRelease(env, VERSION, '0'.repeat(40), at);
      const d = await ctx.store.createDeployment({ env, kind: 'deploy', version: VERSION, fromVersion: 'v4.1.0', actor: 'bench', reason: null, causeId: null, host: ctx.host, pid: process.pid, startedAt: at, meta: {} }, at);
      await ctx.store.finishDeployment(d.id, 'succeeded', at);
      // The process target's run record and logs, as its deploy leaves them (the port answers for the service).
      const services = {};
      for (const service of SERVICES) {
        const logFile = path.join(ctx.stateDir, 'logs', env, `${service}.log`);
        mkdirSync(path.dirname(logFile), { recursive: true });
        const earlier = Array.from({ length: 400 }, (_, i) => `2026-12-01T10:00:${String(i % 60).padStart(2, '0')}Z INFO GET /orders 200 3ms`);
        writeFileSync(logFile, `${startMarker(service, 'v4.1.0')} at 2026-12-01T09:00:00Z\n${earlier.join('\n')}\n${startMarker(service, VERSION)} at ${at}\n`);
        services[service] = { pid: process.pid, startTicks: undefined, version: VERSION, port: undefined, logFile, startedAt: at, argv: ['node', `${service}/main.mjs`], cwd: dir };
      }
      mkdirSync(path.join(ctx.stateDir, 'run'), { recursive: true });
      writeFileSync(path.join(ctx.stateDir, 'run', `${env}.json`), JSON.stringify({ version: VERSION, services }, null, 2));
      await startWatches(ctx, (await ctx.store.getDeployment(d.id)));
    }
  } finally {
    await ctx.store.close();
  }
}

async function watchSummary(dir) {
  const [{ loadConfig }, { createContext }] = await Promise.all([dist('config/load.js'), dist('app/context.js')]);
  const ctx = await createContext(loadConfig(undefined, dir), { env: { ...process.env, SHIPGATE_ACTOR: 'bench' }, readOnly: true });
  try {
    const watches = await ctx.store.listWatches({ limit: 100 });
    return watches.map((w) => ({ kind: w.kind, env: w.env, state: w.state, phase: w.data.phase, lastEvaluatedAt: w.data.lastEvaluatedAt, checks: Object.fromEntries(w.data.latest.map((r) => [r.name, `${r.verdict}: ${r.reason}`.slice(0, 120)])) }));
  } finally {
    await ctx.store.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Measuring the controller process.

function procSample(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  // fields[0] is state (field 3); utime and stime are fields 14 and 15.
  return { at: performance.now(), cpuTicks: Number(fields[11]) + Number(fields[12]), rssKiB: kib('VmRSS'), hwmKiB: kib('VmHWM') };
}

const quantile = (values, q) => {
  const s = [...values].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] : null;
};
// A reference for the lag numbers on a shared machine: how late an idle Node process's 50 ms
// timer fires over the same window (run-queue delay any process sees, controller or not).
const REFERENCE = `const late = []; let due = Date.now() + 50;
const tick = () => { late.push(Date.now() - due); due = Date.now() + 50; setTimeout(tick, 50); };
setTimeout(tick, 50);
process.on('SIGTERM', () => { process.stdout.write(JSON.stringify(late)); process.exit(0); });`;

function startReference() {
  const child = spawn(process.execPath, ['-e', REFERENCE], { stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  const done = new Promise((resolve) => child.on('exit', () => resolve(out)));
  return {
    async stop() {
      child.kill('SIGTERM');
      const late = JSON.parse((await done) || '[]');
      return { timers: late.length, p50: quantile(late, 0.5), p99: quantile(late, 0.99), max: late.length ? Math.max(...late) : null };
    },
  };
}

const round = (n, d = 1) => (n === null || Number.isNaN(n) ? null : Math.round(n * 10 ** d) / 10 ** d);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function run() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'shipgate-ctlscale-'));
  const logDir = path.join(dir, '.shipgate', 'logs');
  const services = await startServices(logDir);
  let child;
  try {
    writeFileSync(path.join(dir, 'shipgate.yml'), configText(services.ports));
    await seed(dir);
    const nodeArgs = CPU_PROF_DIR ? ['--cpu-prof', '--cpu-prof-dir', path.resolve(CPU_PROF_DIR)] : [];
    if (NICE) os.setPriority(Number(NICE));
    // nice execs node: the child's pid is the controller's.
    const argv = [...nodeArgs, BIN, 'serve', '--json', '--stats-every', '1ms'];
    child = spawn(NICE ? 'nice' : process.execPath, NICE ? ['-n', NICE, process.execPath, ...argv] : argv, { cwd: dir, env: { ...process.env, SHIPGATE_ACTOR: 'bench', NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const passes = [];
    const finished = [];
    child.stdout.on('data', (d) => {
      stdout += d;
      const lines = stdout.split('\n');
      stdout = lines.pop();
      for (const l of lines) {
        if (!l.trim()) continue;
        const event = JSON.parse(l);
        if (event.kind === 'controller-stats') passes.push({ at: performance.now(), ...event });
        else finished.push(event);
      }
    });
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));

    const start = performance.now();
    const samples = [];
    let reference;
    while (performance.now() - start < (WARMUP_SECONDS + SECONDS) * 1000) {
      if (child.exitCode !== null) throw new Error(`shipgate serve exited ${child.exitCode}:\n${stderr}`);
      samples.push(procSample(child.pid));
      if (!reference && performance.now() - start >= WARMUP_SECONDS * 1000) reference = startReference();
      await sleep(1000);
    }
    const machineTimerLateMs = await reference.stop();
    const windowStart = start + WARMUP_SECONDS * 1000;
    const inWindow = samples.filter((s) => s.at >= windowStart);
    const [first, last] = [inWindow[0], inWindow.at(-1)];
    const cpuSeconds = (last.cpuTicks - first.cpuTicks) / CLK_TCK;
    const wallSeconds = (last.at - first.at) / 1000;
    const measured = passes.filter((p) => p.at >= windowStart);
    child.kill('SIGTERM');
    const exit = await exited;
    const watches = await watchSummary(dir);

    const cpuShare = cpuSeconds / wallSeconds;
    const steadyRssMiB = quantile(inWindow.map((s) => s.rssKiB), 0.5) / 1024;
    const peakRssMiB = last.hwmKiB / 1024;
    const lagP99 = quantile(measured.map((p) => p.evaluationLagMs.max), 0.99);
    return {
      description: 'one `shipgate serve` evaluating 10 environments × 20 services (5 soaks, 5 monitors in their immediate phase) every 1 s, scraping each service\'s /metrics from one local server',
      shape: { environments: ENVIRONMENTS.length, servicesPerEnvironment: SERVICES.length, services: ENVIRONMENTS.length * SERVICES.length, intervalSeconds: 1, source: 'scrape', checksPerEnvironment: 3, payload: services.payload },
      niceness: NICE ? Number(NICE) : 0, windowSeconds: round(wallSeconds), warmupSeconds: WARMUP_SECONDS, loadAverage: os.loadavg().map((n) => round(n, 2)), machineTimerLateMs,
      cpu: { seconds: round(cpuSeconds, 2), shareOfOneCore: round(cpuShare, 3) },
      memory: { steadyRssMiB: round(steadyRssMiB), peakRssMiB: round(peakRssMiB) },
      evaluationLagMs: {
        passes: measured.length,
        evaluations: measured.reduce((n, p) => n + p.evaluations, 0),
        p50OfPassMedian: quantile(measured.map((p) => p.evaluationLagMs.p50), 0.5),
        p99OfPassMax: lagP99,
        max: Math.max(...measured.map((p) => p.evaluationLagMs.max)),
        passDurationP99: quantile(measured.map((p) => p.tickMs.max), 0.99),
        startedLateP99: quantile(measured.map((p) => p.startLagMs.max), 0.99),
      },
      requestsServed: services.counts,
      controllerExit: exit,
      finishedWatches: finished,
      watches,
      goals: GOALS,
      checks: {
        cpuUnderGoal: cpuShare < GOALS.cpuShareOfOneCore,
        memoryUnderGoal: peakRssMiB < GOALS.rssMiB,
        evaluationLagUnderGoal: lagP99 !== null && lagP99 < GOALS.evaluationLagP99Ms,
        everyWatchStillRunning: watches.length === ENVIRONMENTS.length && watches.every((w) => w.state === 'running'),
        everyPassEvaluatedAll: measured.length > 0 && measured.every((p) => p.evaluations === p.ticks * ENVIRONMENTS.length),
      },
    };
  } finally {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await services.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.stdout.write(`${JSON.stringify(await run(), null, 2)}\n`);
}
