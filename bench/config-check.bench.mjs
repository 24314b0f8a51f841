// `config check` on very large files (finding 11: 130 000 services, 4.5 MB, took over 300 s and
// ×4 per doubling). Linear time means the ratio per doubling stays near 2; the target is a
// 130 000-service file in under 10 s.
import { checkConfigText } from '../dist/config/load.js';

function bigConfig(services) {
  const lines = ['version: 1', 'project: big', 'repository: .', 'services:'];
  for (let i = 0; i < services; i++) lines.push(`  svc_${String(i).padStart(6, '0')}: {command: [run, x], port: ${1024 + (i % 60000)}}`);
  lines.push('environments:', '  staging: {}', '');
  return lines.join('\n');
}

export async function run() {
  const sizes = [16_250, 32_500, 65_000, 130_000];
  const runs = [];
  for (const services of sizes) {
    const text = bigConfig(services);
    const started = performance.now();
    const { config, problems } = checkConfigText(text, 'big.yml');
    const seconds = (performance.now() - started) / 1000;
    if (!config || problems.length) throw new Error(`the generated ${services}-service file should be valid: ${JSON.stringify(problems.slice(0, 3))}`);
    runs.push({ services, megabytes: +(text.length / 2 ** 20).toFixed(2), seconds: +seconds.toFixed(2) });
  }
  const ratios = runs.slice(1).map((r, i) => +(r.seconds / runs[i].seconds).toFixed(2));
  const largest = runs.at(-1);
  return { runs, ratioPerDoubling: ratios, targetSeconds: 10, withinTarget: largest.seconds < 10 };
}
