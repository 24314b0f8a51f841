// `config check` on very large files (finding 11: 130 000 services, 4.5 MB, took over 300 s and
// ×4 per doubling). Linear time means the ratio per doubling stays near 2; the target is a
// 130 000-service file in under 10 s. CPU seconds are reported beside wall seconds: on a shared,
// loaded machine the wall time measures the neighbours as much as shipgate.
import { loadavg } from 'node:os';
import { checkConfigText } from '../dist/config/load.js';

/** Valid at every size: one service in four has a port of its own (ports are unique per environment). */
export function bigConfig(services) {
  const lines = ['version: 1', 'project: big', 'repository: .', 'services:'];
  for (let i = 0; i < services; i++) lines.push(`  svc_${String(i).padStart(6, '0')}: {command: [run, x]${i % 4 === 0 ? `, port: ${20000 + i / 4}` : ''}}`);
  lines.push('environments:', '  staging: {}', '');
  return lines.join('\n');
}

export async function run() {
  // Load of the machine when the bench starts: at a load of 18 on 2 cores, wall time is 3x CPU time.
  const loadAverage = +loadavg()[0].toFixed(1);
  const sizes = [16_250, 32_500, 65_000, 130_000];
  const runs = [];
  // Compile the hot paths first (8 000 services: over the 256 KB at which files are read in pieces),
  // so the first size is not charged for it and the ratios compare like with like.
  checkConfigText(bigConfig(8_000), 'big.yml');
  for (const services of sizes) {
    const text = bigConfig(services);
    const cpu = process.cpuUsage();
    const started = performance.now();
    const { config, problems } = checkConfigText(text, 'big.yml');
    const seconds = (performance.now() - started) / 1000;
    const used = process.cpuUsage(cpu);
    if (!config || problems.length) throw new Error(`the generated ${services}-service file should be valid: ${JSON.stringify(problems.slice(0, 3))}`);
    runs.push({ services, megabytes: +(text.length / 2 ** 20).toFixed(2), seconds: +seconds.toFixed(2), cpuSeconds: +((used.user + used.system) / 1e6).toFixed(2) });
  }
  // The largest file with one bad port: its problem is placed without parsing the whole document.
  const broken = bigConfig(sizes.at(-1)).replace(/^(  svc_064000: \{command: \[run, x\], port: )\d+\}$/m, '$199999}');
  const brokenCpu = process.cpuUsage();
  const brokenStarted = performance.now();
  const found = checkConfigText(broken, 'big.yml').problems;
  const brokenSeconds = (performance.now() - brokenStarted) / 1000;
  const brokenUsed = process.cpuUsage(brokenCpu);
  const oneProblem = { services: sizes.at(-1), seconds: +brokenSeconds.toFixed(2), cpuSeconds: +((brokenUsed.user + brokenUsed.system) / 1e6).toFixed(2) };
  if (found.length !== 1 || found[0].line !== 64_005) throw new Error(`the broken file should have one problem at line 64005: ${JSON.stringify(found.slice(0, 3))}`);
  const ratios = runs.slice(1).map((r, i) => +(r.seconds / runs[i].seconds).toFixed(2));
  const cpuRatios = runs.slice(1).map((r, i) => +(r.cpuSeconds / runs[i].cpuSeconds).toFixed(2));
  const largest = runs.at(-1);
  return { runs, ratioPerDoubling: ratios, cpuRatioPerDoubling: cpuRatios, targetSeconds: 10, withinTarget: largest.seconds < 10, oneProblem, loadAverage };
}
