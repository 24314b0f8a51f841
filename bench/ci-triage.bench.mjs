// CI triage on a 100 MB raw GitHub job log whose first real error is near the end, against
// `grep -c error` on the same file (issue 12: at most 2x its time, flat memory under 100 MB RSS).
// A whole Node CLI cannot reach 2x grep on this file: `node -e 0` alone costs about 2x grep here.
// So three ratios to grep's wall time are reported:
//   - scanRatioToGrep: the triage itself (read, scan, verdict), in this process over the same file;
//   - ratioToGrep: the whole `shipgate ci triage --log FILE --json` command, start-up included;
//   - nodeStartRatioToGrep: `node -e 0`, the floor under any Node command;
// plus the CLI's own start-up (the same command on a one-line log) and CPU seconds, steadier than wall
// time on a shared machine. Best of RUNS for each (grep's best over all its runs); and, for the scan and the
// command, the median of the ratios of each run to the grep run just before it (the two meet the same load).
import { spawnSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const TARGET_BYTES = 100 * 1024 * 1024;
const RUNS = 3;
/** The in-process scan is short: more rounds of grep-then-scan for its median ratio. */
const SCAN_RUNS = 9;

// Passing test output with the console noise real suites print (some of it says "error"), then the failure.
const NOISE = [
  ' ✓ src/orders/router.test.ts > Router > routes limit orders to the venue 3ms',
  ' ✓ src/orders/router.test.ts > Router > rejects orders over the position limit 1ms',
  'stderr | src/feeds/quotes.test.ts > Quotes > reconnects after a drop',
  'Error: socket hang up (expected: the test drops the connection on purpose)',
  '[2024-05-01 10:00:01] INFO  signal_service: computed 128 signals in 4.2ms',
  '[2024-05-01 10:00:01] WARN  execution_gateway: retrying order 42 after a simulated error',
  ' ✓ src/risk/limits.test.ts > Limits > caps notional per symbol 0ms',
  'tests/test_positions.py::test_reconcile_matches_broker PASSED                  [ 41%]',
];

async function writeLog(file) {
  const out = createWriteStream(file);
  const stamp = (i) => `2024-05-01T10:${String(Math.floor(i / 60000) % 60).padStart(2, '0')}:${String(Math.floor(i / 1000) % 60).padStart(2, '0')}.${String(i % 1000).padStart(3, '0')}0000Z `;
  let bytes = 0;
  let i = 0;
  const head = ["Current runner version: '2.321.0'", '##[group]Run npm run test:all', '\u001b[36;1mnpm run test:all\u001b[0m', 'shell: /usr/bin/bash -e {0}', '##[endgroup]'];
  for (const l of head) out.write(stamp(i++) + l + '\n');
  let chunk = '';
  while (bytes < TARGET_BYTES) {
    const line = stamp(i) + NOISE[i % NOISE.length] + '\n';
    i++;
    chunk += line;
    bytes += Buffer.byteLength(line);
    if (chunk.length > 1 << 20) {
      if (!out.write(chunk)) await new Promise((r) => out.once('drain', r));
      chunk = '';
    }
  }
  const tail = [
    "src/cart.test.ts(7,18): error TS2551: Property 'lenght' does not exist on type 'Line[]'. Did you mean 'length'?",
    '##[error]Process completed with exit code 2.',
  ];
  for (const l of tail) chunk += stamp(i++) + l + '\n';
  out.write(chunk);
  await new Promise((r) => out.end(r));
}

function timed(argv, env = {}) {
  const started = process.hrtime.bigint();
  const res = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', maxBuffer: 64 << 20, env: { ...process.env, ...env } });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (res.status !== 0 && !(argv[0] === 'grep' && res.status === 1)) throw new Error(`${argv.join(' ')} failed: ${res.stderr}`);
  return { seconds, stdout: res.stdout, stderr: res.stderr };
}

export async function run() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'shipgate-bench-ci-'));
  const file = path.join(dir, 'job.log');
  try {
    await writeLog(file);
    const size = statSync(file).size;
    timed(['grep', '-c', 'error', file]); // warm the page cache for both
    const grep = [];
    const triage = [];
    let result;
    let peakRssMiB = 0;
    // A tiny wrapper reports the CLI process's own peak RSS (ru_maxrss) when it exits.
    const probe = path.join(dir, 'rss.mjs');
    writeFileSync(probe, `process.on('exit', () => { const u = process.resourceUsage(); process.stderr.write('\\nMAXRSS_KB=' + u.maxRSS + ' CPU_US=' + (u.userCPUTime + u.systemCPUTime) + '\\n'); });\nconst { main } = await import(${JSON.stringify(path.join(ROOT, 'dist', 'cli', 'main.js'))});\nawait main(process.argv);\n`);
    const grepCpu = [];
    const triageCpu = [];
    const commandRatios = [];
    for (let r = 0; r < RUNS; r++) {
      const g = timed(['grep', '-c', 'error', file]).seconds;
      grep.push(g);
      // bash's `times` reports its children's CPU time: grep's own, whatever else the machine runs.
      // Not into /dev/null: GNU grep then stops at the first match, as -q does.
      const bt = timed(['bash', '-c', 'grep -c error "$0" >"$1"; times', file, path.join(dir, 'grep.out')]).stdout.trim().split('\n')[1] ?? '';
      grepCpu.push(bt.split(/\s+/).map((x) => { const m = /(\d+)m([\d.]+)s/.exec(x); return m ? Number(m[1]) * 60 + Number(m[2]) : 0; }).reduce((a, b) => a + b, 0));
      const t = timed([process.execPath, probe, 'ci', 'triage', '--log', file, '--json'], { NO_COLOR: '1' });
      triage.push(t.seconds);
      commandRatios.push(t.seconds / g);
      result = JSON.parse(t.stdout);
      const kb = Number(/MAXRSS_KB=(\d+)/.exec(t.stderr)?.[1] ?? NaN);
      triageCpu.push(Number(/CPU_US=(\d+)/.exec(t.stderr)?.[1] ?? NaN) / 1e6);
      peakRssMiB = Math.max(peakRssMiB, kb / 1024);
    }
    // The CLI's own start-up (the same command on a one-line log), to tell start-up from scanning.
    const tiny = path.join(dir, 'tiny.log');
    writeFileSync(tiny, 'ok\n');
    const startup = [];
    const nodeStart = [];
    for (let r = 0; r < RUNS; r++) {
      startup.push(timed([process.execPath, probe, 'ci', 'triage', '--log', tiny, '--json'], { NO_COLOR: '1' }).seconds);
      nodeStart.push(timed([process.execPath, '-e', '0']).seconds);
    }
    // The triage itself, in this process: the same code the command runs after start-up (the shipped causes loaded once before).
    const { openLog, triageLogWithProject } = await import(path.join(ROOT, 'dist', 'app', 'ci', 'log-triage.js'));
    const { loadCauses } = await import(path.join(ROOT, 'dist', 'app', 'ci', 'knowledge.js'));
    loadCauses(null);
    const scan = [];
    const scanCpu = [];
    const scanRatios = [];
    for (let r = 0; r < SCAN_RUNS; r++) {
      const g = timed(['grep', '-c', 'error', file]).seconds; // next to each scan, so both meet the same load
      grep.push(g);
      const cpu = process.cpuUsage();
      const started = process.hrtime.bigint();
      const t = await triageLogWithProject(null, openLog(file), { junit: [] });
      scan.push(Number(process.hrtime.bigint() - started) / 1e9);
      scanRatios.push(scan.at(-1) / g);
      const used = process.cpuUsage(cpu);
      scanCpu.push((used.user + used.system) / 1e6);
      if (t.firstError !== result.firstError) throw new Error(`in-process triage disagrees with the CLI: ${t.firstError}`);
    }
    const best = (xs) => Math.min(...xs);
    const median = (xs) => { const v = [...xs].sort((a, b) => a - b); return v.length % 2 ? v[v.length >> 1] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2; };
    const toGrep = (xs) => +(best(xs) / best(grep)).toFixed(2);
    return {
      logMiB: +(size / 2 ** 20).toFixed(1),
      grepSeconds: +best(grep).toFixed(3),
      targetRatio: 2,
      scanSeconds: +best(scan).toFixed(3),
      scanRatioToGrep: toGrep(scan),
      // The median over SCAN_RUNS rounds of (scan time / the grep run just before it).
      scanMedianRatioToGrep: +median(scanRatios).toFixed(2),
      scanRuns: SCAN_RUNS,
      // The first run in this process, before the JIT has compiled the scan loop (as in the command).
      scanFirstRunSeconds: +scan[0].toFixed(3),
      triageSeconds: +best(triage).toFixed(3),
      ratioToGrep: toGrep(triage),
      // The median over RUNS rounds of (command time / the grep run at the start of its round).
      medianRatioToGrep: +median(commandRatios).toFixed(2),
      cliStartupSeconds: +best(startup).toFixed(3),
      nodeStartSeconds: +best(nodeStart).toFixed(3),
      nodeStartRatioToGrep: toGrep(nodeStart),
      // CPU seconds (user + system) are steadier than wall time on a shared machine; the command's include Node's start-up.
      grepCpuSeconds: +best(grepCpu).toFixed(3),
      scanCpuSeconds: +best(scanCpu).toFixed(3),
      scanCpuRatioToGrep: +(best(scanCpu) / Math.max(best(grepCpu), 0.001)).toFixed(2),
      triageCpuSeconds: +best(triageCpu).toFixed(3),
      cpuRatioToGrep: +(best(triageCpu) / Math.max(best(grepCpu), 0.001)).toFixed(2),
      peakRssMiB: +peakRssMiB.toFixed(1),
      targetRssMiB: 100,
      found: { category: result.category, firstError: result.firstError, failedStep: result.failedStep },
      // Runnable processes per CPU when the bench ended: above 1, every wall time here is stretched by other work.
      loadPerCpu: +(os.loadavg()[0] / os.cpus().length).toFixed(1),
      runs: RUNS,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
