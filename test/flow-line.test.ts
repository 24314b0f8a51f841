// parseFlowLine reads the common one-line service of a big file without the YAML library. Whatever
// it accepts must be exactly what the library reads from that line; whatever it is unsure of it
// must leave to the library (undefined).
import { describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { parseFlowLine } from '../src/config/flow-line.js';

/** The library's reading of a one-entry map line, or undefined when it has any error, warning or duplicate key. */
function library(line: string): { key: string; value: unknown } | undefined {
  const doc = parseDocument(line, { uniqueKeys: true, merge: true, prettyErrors: false });
  if (doc.errors.length || doc.warnings.length) return undefined;
  const data = doc.toJS() as Record<string, unknown> | null;
  if (!data || typeof data !== 'object') return undefined;
  const keys = Object.keys(data);
  return keys.length === 1 ? { key: keys[0]!, value: data[keys[0]!] } : undefined;
}

describe('a one-line flow entry read without the YAML library', () => {
  it('reads the common lines as the library does', () => {
    const lines = [
      '  svc_000001: {command: [run, x], port: 20001}',
      '  svc_000002: {command: [run, x]}',
      '  api: { command: [ node, "main.mjs", "--port", "8080" ], cwd: ./sub, env: {MODE: \'a: b\', COUNT: "3", E: ""}, passEnv: [HOME] }',
      '  api: {port: 8001, health: "http://127.0.0.1:{port}/health"}   # the API',
      '  api: {env: {A: true, B: True, C: yes, D: null, E: Null, F: 007, G: 0x1F, H: 0o17, I: 1e3, J: .5, K: .inf, L: .NaN, N: 1.}}',
      '  api: {command: [a.b/c, x_y, 1-2, v1.2.3, "#x", \'#y\', "a, b", "[c]"]}',
      '  api: {}',
      '  api: []',
      '  api: {a: {b: {c: [[], [x], {}]}}}',
      '  api: {a: [1, 2, 3]} #c',
    ];
    for (const line of lines) {
      const fast = parseFlowLine(line);
      expect(fast, line).toBeDefined();
      expect(fast, line).toEqual(library(line));
    }
  });

  it('leaves to the library what it is unsure of, valid YAML or not', () => {
    const lines = [
      '  api: {a: b c}', // a plain scalar with a space
      '  api: {a: http://x}', // a colon inside a plain scalar
      '  api: {a:b}', // one plain scalar "a:b" to YAML
      '  api: {a: "x\\ty"}', // an escape
      "  api: {a: 'it''s'}", // an escaped quote
      '  api: {a: [x, y,]}', // a trailing comma
      '  api: {a: 1, a: 2}', // a duplicate key
      '  api: {a: &x 1, b: *x}', // an anchor and an alias
      '  api: {a: !!str 1}', // a tag
      '  api: {a: -x}', // a leading dash
      '  api: {a: 1}#c', // a comment without a space
      '  api: {a: 1', // unclosed
      '  api: {a: 1}}',
      '  api: {a: 1} b',
      '  api: x', // not a flow collection
      '  "api": {a: 1}', // a quoted key
      '  true: {a: 1}', // a key the schema reads as a boolean
      '  api: {null: 1}',
      '  api: {"a": 1}',
      '  api: {a: "x"y}',
      '  api: {a: "\u00e9"}', // non-ASCII
      '  api: {a: "a\u0000b"}', // a control character
      '  api : {a: 1}',
      '  <<: {a: 1}',
      '  api: {<<: {a: 1}}',
    ];
    for (const line of lines) expect(parseFlowLine(line), line).toBeUndefined();
  });

  it('never disagrees with the library on ten thousand generated lines', () => {
    let seed = 11;
    // mulberry32: a small seeded generator, so a failure replays.
    const random = (n: number) => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return (((t ^ (t >>> 14)) >>> 0) / 2 ** 32) * n | 0;
    };
    // Mostly what the subset takes, some of what it must refuse.
    const safe = ['run', 'x', '0', '1', '007', '0x1F', '0o7', '1e3', '.5', '.inf', '.NaN', '1.', 'true', 'False', 'yes', 'null', 'Null', 'a.b', './c', 'a-b', 'v1.2.3', '"q"', '"a, b"', '"{port}"', "'s'", "'a: b'", '""'];
    const risky = ['-1', '+2', '~', 'a:b', 'a b', '#', 'é', "'it''s'", '"x\\n"', '', ' ', '-', '&a x', '*a', '!!str 1'];
    const word = () => (random(6) ? safe[random(safe.length)]! : risky[random(risky.length)]!);
    const safeKeys = ['a', 'b', 'command', 'port', 'a-b', 'env'];
    const riskyKeys = ['null', 'true', '1', '"k"', '<<', 'a b'];
    const key = () => (random(8) ? safeKeys[random(safeKeys.length)]! : riskyKeys[random(riskyKeys.length)]!);
    const node = (depth: number): string => {
      const r = random(depth > 2 ? 1 : 4);
      if (r === 1) return `[${Array.from({ length: random(4) }, () => node(depth + 1)).join(random(2) ? ', ' : ',')}]`;
      if (r === 2) return `{${Array.from({ length: random(4) }, () => `${key()}:${random(8) ? ' ' : ''}${node(depth + 1)}`).join(', ')}}`;
      return word();
    };
    let accepted = 0;
    for (let i = 0; i < 10_000; i++) {
      const line = `  ${random(10) ? 'svc' : key()}: ${random(8) ? `{${Array.from({ length: random(4) }, () => `${key()}: ${node(1)}`).join(', ')}}` : node(0)}${random(6) ? '' : '  # note'}`;
      const fast = parseFlowLine(line);
      if (fast === undefined) continue;
      accepted++;
      expect(fast, line).toEqual(library(line));
    }
    expect(accepted).toBeGreaterThan(2_000);
  });
});
