// `config check` on a very large file: every problem still found and placed, duplicate keys
// included (found by shipgate in one pass, not by the YAML library's per-key scan). Its growth is
// asserted here as a ratio of CPU time (4x the services may cost at most 8x, quadratic would be
// 16x), never as wall-clock seconds; the 130 000-service target is `npm run bench -- config-check`.
import { describe, expect, it } from 'vitest';
import { checkConfigText } from '../src/config/load.js';
import { duplicateKeys } from '../src/config/positions.js';
import { parseDocument } from 'yaml';

const SERVICES = 10_000;
const name = (i: number) => `svc_${String(i).padStart(6, '0')}`;

function bigConfig(extra: (i: number) => string = () => '', services = SERVICES): string {
  const lines = ['version: 1', 'project: big', 'repository: .', 'services:'];
  for (let i = 0; i < services; i++) lines.push(`  ${name(i)}: {command: [run, x], port: ${20000 + (i % 40000)}${extra(i)}}`);
  lines.push('environments:', '  staging: {}', '');
  return lines.join('\n');
}

describe('config check on a file with 10 000 services', () => {
  it('accepts the valid file with every service', () => {
    const { config, problems } = checkConfigText(bigConfig(), 'big.yml');
    expect(problems).toEqual([]);
    expect(Object.keys(config!.services)).toHaveLength(SERVICES);
  });

  it('places a problem in every one of them at its own line', () => {
    const { config, problems } = checkConfigText(bigConfig(() => ', colour: red'), 'big.yml');
    expect(config).toBeUndefined();
    expect(problems).toHaveLength(SERVICES);
    expect(problems.at(-1)).toMatchObject({ path: `services.${name(SERVICES - 1)}.colour`, line: 4 + SERVICES, message: 'unknown field "colour"' });
    expect(problems.map((p) => p.line)).toEqual(Array.from({ length: SERVICES }, (_, i) => 5 + i));
  });

  it('finds a duplicate service at the end of the map, with its position', () => {
    const text = bigConfig().replace('environments:', `  ${name(3)}: {command: [again]}\nenvironments:`);
    const { config, problems } = checkConfigText(text, 'big.yml');
    expect(config).toBeUndefined();
    expect(problems).toEqual([expect.objectContaining({ path: '(yaml)', line: 5 + SERVICES, col: 3, message: expect.stringContaining(`"${name(3)}" appears twice`) })]);
  });

  it('grows linearly: four times the services cost at most eight times the CPU time', () => {
    const cpuSeconds = (services: number) => {
      const text = bigConfig(() => '', services);
      let best = Infinity;
      for (let run = 0; run < 2; run++) {
        const before = process.cpuUsage();
        const { config } = checkConfigText(text, 'big.yml');
        const used = process.cpuUsage(before);
        expect(Object.keys(config!.services)).toHaveLength(services);
        best = Math.min(best, (used.user + used.system) / 1e6);
      }
      return best;
    };
    cpuSeconds(500); // compile the hot paths before measuring
    const small = cpuSeconds(SERVICES / 4);
    const large = cpuSeconds(SERVICES);
    expect(large / small, `${SERVICES / 4} services: ${small.toFixed(2)} s CPU, ${SERVICES}: ${large.toFixed(2)} s`).toBeLessThan(8);
  }, 300_000);

  it('finds duplicates in nested maps and allows repeated merge keys', () => {
    const doc = parseDocument('a: {x: 1, y: 2, x: 3}\nb:\n  <<: {p: 1}\n  <<: {q: 2}\n  z: 1\n  z: 2\n', { uniqueKeys: false, merge: true });
    expect(duplicateKeys(doc).map((d) => d.key)).toEqual(['x', 'z']);
  });
});
