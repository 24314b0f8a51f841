// `config check` on very large files (finding 11: 130 000 services, 4.5 MB, took over 300 s and
// ×4 per doubling). Linear time means the ratio per doubling stays near 2; the target is a
// 130 000-service file in under 10 s. CPU seconds are reported beside wall seconds: on a shared,
// loaded machine the wall time measures the neighbours as much as shipgate.
import { checkConfigText } from '../dist/config/load.js';

/** Valid at every size: one service in four has a port of its own (ports are unique per environment). */
export function bigConfig(services) {
  const lines = ['version: 1', 'project: big', 'repository: .', 'services:'];
  for (let i = 0; i < services; i++) lines.push(`  svc_${String(i).padStart(6, '0')}: {command: [run, x]${i % 4 === 0 ? `, port: ${20000 + i / 4}` : ''}}`);
  lines.push('environments:', '  staging: {}', '');
  return lines.join('\n');
}

export async function run() {
  const sizes = [16_250, 32_500, 65_000, 130_000];
  const runs = [];
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
  const ratios = runs.slice(1).map((r, i) => +(r.seconds / runs[i].seconds).toFixed(2));
  const cpuRatios = runs.slice(1).map((r, i) => +(r.cpuSeconds / runs[i].cpuSeconds).toFixed(2));
  const largest = runs.at(-1);
  return { runs, ratioPerDoubling: ratios, cpuRatioPerDoubling: cpuRatios, targetSeconds: 10, withinTarget: largest.seconds < 10 };
}
