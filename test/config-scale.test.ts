// `config check` on a very large file: every problem still found and placed, duplicate keys
// included (found by shipgate in one pass, not by the YAML library's per-key scan). Its growth is
// asserted here as a ratio of CPU time (4x the services may cost at most 8x, quadratic would be
// 16x), never as wall-clock seconds; the 130 000-service target is `npm run bench -- config-check`.
import { describe, expect, it } from 'vitest';
import { checkConfigText } from '../src/config/load.js';
import { parseInPieces } from '../src/config/parse-in-pieces.js';
import { duplicateKeys } from '../src/config/positions.js';
import { parseDocument } from 'yaml';
import { scaled } from './harness/pace.js';

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

  it('places the problems of a file read in pieces where the whole-document parse places them', () => {
    const line = (i: number) => `  ${name(i)}: {command: [run, x], port: ${20000 + (i % 40000)}}`;
    const edit = (text: string, i: number, replacement: string) => {
      expect(text).toContain(line(i));
      return text.replace(line(i), replacement);
    };
    // A tab in a comment makes parseInPieces give up: the whole-document parse decides.
    const whole = (text: string) => checkConfigText(`${text}# a\tforced whole parse\n`, 'big.yml');
    // Schema problems: one line each, one in a piece the library reads, and a missing top-level field.
    let schema = edit(bigConfig(), 8000, `  ${name(8000)}: {command: [run, x], port: 99999}`);
    schema = edit(schema, 9001, `  ${name(9001)}: {command: [run, x], colour: red}`);
    schema = edit(schema, 7, `  ${name(7)}: {cwd: ./a}`);
    schema = edit(schema, 15, `  ${name(15)}:\n    command: [run, x]\n    port: 0`);
    schema = edit(schema, 5, '  Svc_5: {command: [run, x]}').replace('version: 1\n', '');
    // Rule findings: a port taken, an option as a program, a NUL, a line break, a file: URL.
    let rules = edit(bigConfig(), 9_999, `  ${name(9_999)}: {command: [run, x], port: 20001}`);
    rules = edit(rules, 3, `  ${name(3)}: {command: [-x]}`);
    rules = edit(rules, 9, `  ${name(9)}: {command: [run, "a\\u0000b"]}`);
    rules = edit(rules, 11, `  ${name(11)}:\n    command: [run, x]\n    env:\n      A: |\n        two\n        lines`);
    rules = edit(rules, 13, `  ${name(13)}: {command: [run, x], health: "file:///etc/passwd"}`);
    for (const [text, count] of [[schema, 6], [rules, 5]] as const) {
      expect(parseInPieces(text)).toBeDefined();
      const inPieces = checkConfigText(text, 'big.yml');
      expect(inPieces.problems).toHaveLength(count);
      expect(inPieces).toEqual(whole(text));
    }
  }, scaled(120_000));

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
    // Both sizes above parse-in-pieces' 256 KB threshold (a service line is ~55 bytes), so the
    // ratio compares one algorithm with itself, not the whole-document parse with the pieces.
    const [smallCount, largeCount] = [6_000, 24_000];
    cpuSeconds(500); // compile the hot paths before measuring
    const small = cpuSeconds(smallCount);
    const large = cpuSeconds(largeCount);
    expect(large / small, `${smallCount} services: ${small.toFixed(2)} s CPU, ${largeCount}: ${large.toFixed(2)} s`).toBeLessThan(8);
  }, scaled(300_000));

  it('finds duplicates in nested maps and allows repeated merge keys', () => {
    const doc = parseDocument('a: {x: 1, y: 2, x: 3}\nb:\n  <<: {p: 1}\n  <<: {q: 2}\n  z: 1\n  z: 2\n', { uniqueKeys: false, merge: true });
    expect(duplicateKeys(doc).map((d) => d.key)).toEqual(['x', 'z']);
  });
});

describe('a big file read in pieces', () => {
  const whole = (text: string) => parseDocument(text, { uniqueKeys: false, merge: true }).toJS();
  // Services written the ways people write them: block maps, lists, block scalars, comments,
  // quoted keys and values, an anchor used inside its own entry, flow maps over two lines.
  const service = (i: number) => {
    const n = name(i);
    switch (i % 5) {
      case 0: return `  ${n}: {command: [run, x], port: ${20000 + i}}`;
      case 1: return `  # ${n} is the one with notes\n  ${n}:\n    command:\n      - node\n      - "main.mjs"\n    env: {MODE: 'a: b', COUNT: "3"}\n\n    metrics: http://127.0.0.1:9100/metrics`;
      case 2: return `  "${n}":\n    command: [sh, -c, 'echo #not-a-comment']\n    env:\n      NOTE: >-\n        two\n        words\n      FLAG: yes`;
      case 3: return `  ${n}:\n    env: &e${i} {A: "1", B: ''}\n    command: ["true"]   # trailing comment\n    passEnv: [HOME]`;
      default: return `  ${n}: {command: [run,\n      y], cwd: ./sub}`;
    }
  };
  const text = ['# a big desk', 'version: 1', 'project: big', 'services:', ...Array.from({ length: 12_000 }, (_, i) => service(i)), 'environments:', '  staging:', '    services: {svc_000001: {port: 9000}}', '  prod: {}', ''].join('\n');

  it('gives exactly the data of the whole-document parse', () => {
    expect(text.length).toBeGreaterThan(256 * 1024);
    const pieces = parseInPieces(text);
    expect(pieces).toBeDefined();
    expect(pieces).toEqual(whole(text));
    expect(Object.keys((pieces as any).services)).toHaveLength(12_000);
  });

  it('gives up, leaving it to the whole-document parse, on what pieces could change', () => {
    const cases = {
      'an alias to an anchor in another piece': text.replace('services:', 'x-base: &base {cwd: ./shared}\nservices:').replace(`  ${name(11_000)}: {command: [run, x], port: ${20000 + 11_000}}`, `  ${name(11_000)}: {<<: *base, command: [run, x]}`),
      'a service twice, in different pieces': text.replace('environments:', `  ${name(0)}: {command: [again]}\nenvironments:`),
      'a top-level key twice': `${text}services: {}\n`,
      'a tab': text.replace('# a big desk', '# a\tbig desk'),
      'a directive': `%YAML 1.1\n---\n${text}`,
      '__proto__ as a key': text.replace(`  ${name(6_000)}: `, '  __proto__: '),
      'an unclosed flow map': text.replace(`  ${name(4)}: {command: [run,`, `  ${name(4)}: {command: [run, {`),
    };
    for (const [what, bad] of Object.entries(cases)) expect(parseInPieces(bad), what).toBeUndefined();
    // The whole parse resolves the alias the pieces could not.
    const withAlias = whole(cases['an alias to an anchor in another piece']);
    expect(withAlias.services[name(11_000)]).toEqual({ cwd: './shared', command: ['run', 'x'] });
  });

  it('config check gives the same config whether it reads the file in pieces or whole', () => {
    const inPieces = checkConfigText(text, 'big.yml');
    expect(inPieces.problems).toEqual([]);
    expect(inPieces.config!.services[name(2)]!.env).toEqual({ NOTE: 'two words', FLAG: 'yes' });
    const forcedWhole = checkConfigText(`${text}# a tab\there makes it read whole\n`, 'big.yml');
    expect(forcedWhole.problems).toEqual([]);
    expect(inPieces.config).toEqual(forcedWhole.config);
  });
});
