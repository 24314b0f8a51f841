import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { isNode, isScalar, LineCounter, parseDocument, type Document, type YAMLError } from 'yaml';
import type { z } from 'zod';
import { badInput } from '../core/errors.js';
import { parseInPieces } from './parse-in-pieces.js';
import { duplicateKeys, nodeAt, pairAt } from './positions.js';
import { configRules } from './rules/index.js';
import { configSchema, type ShipgateConfig } from './schema.js';
import { CONFIG_FILE, findConfigFile } from './locate.js';

export { CONFIG_FILE, findConfigFile };

export interface ConfigProblem {
  file: string;
  line: number;
  col: number;
  path: string;
  message: string;
  hint: string;
  /** Absent means error; warnings do not fail `config check`. */
  severity?: 'error' | 'warning';
}

export interface LoadedConfig {
  file: string;
  /** Directory of the config file; relative paths in it resolve from here. */
  dir: string;
  config: ShipgateConfig;
}

export function locateConfig(explicit: string | undefined, cwd: string): string {
  if (explicit) {
    const file = path.resolve(cwd, explicit);
    if (!existsSync(file)) {
      throw badInput(`config file ${explicit} does not exist`, {
        where: '-c/--config',
        hint: 'Check the path, or run `shipgate init` to write a starter shipgate.yml.',
      });
    }
    return file;
  }
  const found = findConfigFile(cwd);
  if (!found) {
    throw badInput(`no ${CONFIG_FILE} found in ${cwd} or any directory above it`, {
      hint: 'Run `shipgate init` (or `shipgate init --from docker-compose.yml`) to write one, or name it with -c FILE.',
    });
  }
  return found;
}

/** Reads a config file, turning an unreadable path (a directory, no permission) into bad input. */
export function readConfigFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'EISDIR' ? 'is a directory' : `cannot be read (${(err as Error).message})`;
    throw badInput(`config file ${file} ${reason}`, {
      where: '-c/--config',
      hint: 'Name a shipgate.yml file with -c FILE, or run `shipgate init` to write one.',
    });
  }
}

const YAML_HINT = 'Fix the YAML syntax: check indentation (spaces, not tabs), colons after keys, matching quotes and that no key appears twice in one map.';

/** Parses and validates; returns every problem rather than the first, ordered by position. */
export function checkConfigText(text: string, file: string): { config?: ShipgateConfig; problems: ConfigProblem[] } {
  const clean = cleanBigFile(text, file);
  if (clean) return { config: clean, problems: [] };
  const parsed = checkSchema(text, file);
  if (!parsed.config) return parsed;
  const findings = runRules(parsed.config, path.dirname(path.resolve(file)), parsed.doc!, parsed.lineCounter!, file);
  const blocking = findings.some((f) => f.severity !== 'warning');
  return blocking ? { problems: findings } : { config: parsed.config, problems: findings };
}

/**
 * A big file read in pieces (see parseInPieces) that the schema and every rule accept. Anything
 * else (not cut into pieces, a schema problem, any finding) goes through the whole-document parse,
 * which finds and places every problem.
 */
function cleanBigFile(text: string, file: string): ShipgateConfig | undefined {
  const data = parseInPieces(text);
  if (data === undefined) return undefined;
  const result = configSchema.safeParse(data);
  if (!result.success) return undefined;
  const dir = path.dirname(path.resolve(file));
  return configRules.every((rule) => rule({ config: result.data, dir }).length === 0) ? result.data : undefined;
}

/** Problems that block (errors), without the warnings. */
export function errorsOf(problems: ConfigProblem[]): ConfigProblem[] {
  return problems.filter((p) => p.severity !== 'warning');
}

function runRules(config: ShipgateConfig, dir: string, doc: Document, lc: LineCounter, file: string): ConfigProblem[] {
  const found: ConfigProblem[] = [];
  for (const rule of configRules) {
    for (const f of rule({ config, dir })) {
      const last = f.path[f.path.length - 1];
      const offset = f.at === 'key' && last !== undefined ? keyOffset(doc, f.path.slice(0, -1), last) : valueOffset(doc, f.path);
      const { line, col } = lc.linePos(offset);
      found.push({ file, line, col, path: f.path.join('.'), message: f.message, hint: f.hint, ...(f.severity === 'warning' ? { severity: 'warning' as const } : {}) });
    }
  }
  return byPosition(found);
}

function checkSchema(text: string, file: string): { config?: ShipgateConfig; problems: ConfigProblem[]; doc?: Document; lineCounter?: LineCounter } {
  const lineCounter = new LineCounter();
  // The library's own duplicate-key check is quadratic in a map's size; duplicateKeys is not.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: false, merge: true });
  const problems: ConfigProblem[] = doc.errors.map((err) => {
    // Without prettyErrors `linePos` is not filled in; `pos` (offsets) always is.
    const { offset, message } = yamlErrorAt(err, text);
    const { line, col } = lineCounter.linePos(offset);
    return { file, line, col, path: '(yaml)', message, hint: YAML_HINT };
  });
  for (const { offset, key } of duplicateKeys(doc)) {
    const { line, col } = lineCounter.linePos(offset);
    problems.push({ file, line, col, path: '(yaml)', message: `Map keys must be unique ("${key}" appears twice)`, hint: YAML_HINT });
  }
  if (problems.length > 0) return { problems: byPosition(problems) };

  let data: unknown;
  try {
    // Throws on an alias to a missing anchor and on alias bombs, which parsing alone accepts.
    data = doc.toJS() ?? {};
  } catch (err) {
    const message = (err as Error).message;
    const alias = /alias[^:]*: (\S+)$/.exec(message)?.[1];
    const at = alias ? text.indexOf(`*${alias}`) : -1;
    const { line, col } = lineCounter.linePos(Math.max(at, 0));
    return { problems: [{ file, line, col, path: '(yaml)', message, hint: 'Define each anchor (&name) before its alias (*name), and do not nest aliases to blow up the document.' }] };
  }
  const result = configSchema.safeParse(data);
  if (result.success) return { config: result.data, problems: [], doc, lineCounter };
  const found = result.error.issues.flatMap((issue) => describeIssue(issue, doc, lineCounter, file, data));
  return { problems: byPosition(found) };
}

export function loadConfig(explicit: string | undefined, cwd: string): LoadedConfig {
  const file = locateConfig(explicit, cwd);
  const { config, problems: all } = checkConfigText(readConfigFile(file), file);
  if (!config) {
    const problems = errorsOf(all);
    const first = problems[0]!;
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more problem${problems.length > 2 ? 's' : ''}; run \`shipgate config check\`)` : '';
    throw badInput(`invalid configuration: ${first.path}: ${first.message}${more}`, {
      where: `${first.file}:${first.line}:${first.col}`,
      hint: first.hint,
      data: { problems },
    });
  }
  return { file, dir: path.dirname(file), config };
}

type Segment = string | number;

/** Where a YAML error is best shown, and its first line without the library's own position. */
function yamlErrorAt(err: YAMLError, text: string): { offset: number; message: string } {
  const message = (err.message.split('\n')[0] ?? err.message).replace(/ at line \d+, column \d+:?$/, '');
  let offset = Math.min(err.pos[0], text.length);
  if (err.code === 'MISSING_CHAR' && /quote/.test(message)) {
    // The parser notices at the end of the text; the mistake is the quote that was never closed.
    const quote = message.includes("'") ? "'" : '"';
    const open = openingQuote(text, offset, quote);
    if (open !== undefined) return { offset: open, message: `missing closing ${quote} for the string that starts here` };
  }
  // Indentation errors are reported at the start of the line: point at its first character instead.
  while (text[offset] === ' ') offset++;
  return { offset, message };
}

function openingQuote(text: string, before: number, quote: string): number | undefined {
  for (let i = Math.min(before, text.length) - 1; i >= 0; i--) {
    if (text[i] !== quote) continue;
    if (quote === '"') {
      let slashes = 0;
      for (let j = i - 1; j >= 0 && text[j] === '\\'; j--) slashes++;
      if (slashes % 2 === 1) continue;
    } else if (text[i - 1] === "'") {
      i--; // '' is an escaped quote inside a single-quoted string
      continue;
    }
    return i;
  }
  return undefined;
}

function byPosition(problems: ConfigProblem[]): ConfigProblem[] {
  return problems
    .map((p, i) => ({ p, i }))
    .sort((a, b) => a.p.line - b.p.line || a.p.col - b.p.col || a.i - b.i)
    .map(({ p }) => p);
}

function describeIssue(issue: z.core.$ZodIssue, doc: Document, lc: LineCounter, file: string, data: unknown): ConfigProblem[] {
  const issuePath: Segment[] = issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p));
  const make = (fieldPath: Segment[], offset: number, message: string, hint: string): ConfigProblem => {
    const { line, col } = lc.linePos(offset);
    return { file, line, col, path: fieldPath.join('.') || '(root)', message, hint };
  };

  // One problem per unknown key, each pointing at the key itself.
  if (issue.code === 'unrecognized_keys') {
    const known = knownKeys(issuePath);
    return issue.keys.map((key) => make([...issuePath, key], keyOffset(doc, issuePath, key), `unknown field "${key}"`, unknownKeyHint(key, known)));
  }

  const parentPath = issuePath.slice(0, -1);
  const last = issuePath[issuePath.length - 1];

  // A bad map key (a service or environment name): point at the key.
  if (issue.code === 'invalid_key' && last !== undefined) {
    const inner = issue.issues[0]?.message ?? issue.message;
    return [make(issuePath, keyOffset(doc, parentPath, last), `invalid name "${String(last)}": ${inner}`, 'Rename it: start with a lower-case letter, then lower-case letters, digits, "_" or "-" (at most 63 characters).')];
  }

  if (issue.code === 'custom' && issue.params?.at === 'key' && last !== undefined) {
    const hint =
      issue.params.kind === 'unknown_service'
        ? `Declare "${String(last)}" under services, or correct the name (overrides can only change declared services).`
        : 'See `shipgate config schema` for what this field accepts.';
    return [make(issuePath, keyOffset(doc, parentPath, last), issue.message, hint)];
  }

  // A required field that is absent: point at the map that should contain it.
  if (last !== undefined && isMissing(data, issuePath)) {
    return [make(issuePath, valueOffset(doc, issuePath), `missing required field "${String(last)}"`, `Add \`${String(last)}:\` here; \`shipgate init\` writes a commented example of every field.`)];
  }

  // A wrong value: point at the value (or at its key when the value is empty, as in `api:`).
  const node = issuePath.length ? nodeAt(doc, issuePath) : doc.contents;
  const empty = isScalar(node) && node.value === null && node.range !== undefined && node.range !== null && node.range[0] === node.range[1];
  const offset = empty && last !== undefined ? keyOffset(doc, parentPath, last) : valueOffset(doc, issuePath);
  return [make(issuePath, offset, messageFor(issue), hintFor(issue))];
}

/** True when the parent of `p` exists as a map but has no key `p[-1]`. */
function isMissing(data: unknown, p: Segment[]): boolean {
  let node: unknown = data;
  for (const seg of p.slice(0, -1)) {
    if (typeof node !== 'object' || node === null) return false;
    node = (node as Record<string, unknown>)[String(seg)];
  }
  if (typeof node !== 'object' || node === null || Array.isArray(node)) return false;
  const value = (node as Record<string, unknown>)[String(p[p.length - 1])];
  return value === undefined;
}

/** Offset of the node at `p`, or of its deepest ancestor that exists. */
function valueOffset(doc: Document, p: Segment[]): number {
  for (let depth = p.length; depth >= 0; depth--) {
    const node = depth === 0 ? doc.contents : nodeAt(doc, p.slice(0, depth));
    if (isNode(node) && node.range) return node.range[0];
  }
  return 0;
}

/** Offset of the key `key` in the map at `mapPath`, else of the map (or its deepest ancestor). */
function keyOffset(doc: Document, mapPath: Segment[], key: Segment): number {
  const pair = pairAt(doc, mapPath, key);
  if (isScalar(pair?.key) && pair.key.range) return pair.key.range[0];
  return valueOffset(doc, [...mapPath, key]);
}

/** The fields the schema allows in the map at `p`, for "did you mean" hints. */
function knownKeys(p: Segment[]): string[] {
  let schema: unknown = unwrap(configSchema);
  for (const seg of p) {
    const def = defOf(schema);
    if (def?.type === 'object') schema = unwrap(def.shape?.[String(seg)]);
    else if (def?.type === 'record') schema = unwrap(def.valueType);
    else if (def?.type === 'array') schema = unwrap(def.element);
    else return [];
    if (!schema) return [];
  }
  const def = defOf(schema);
  if (def?.type === 'union') {
    // e.g. the kinds of analysis check: every field any of them allows.
    const keys = (def.options ?? []).flatMap((o) => {
      const d = defOf(unwrap(o));
      return d?.type === 'object' && d.shape ? Object.keys(d.shape) : [];
    });
    return [...new Set(keys)];
  }
  return def?.type === 'object' && def.shape ? Object.keys(def.shape) : [];
}

interface LooseDef {
  type?: string;
  shape?: Record<string, unknown>;
  valueType?: unknown;
  element?: unknown;
  options?: unknown[];
  innerType?: unknown;
  in?: unknown;
}

function defOf(schema: unknown): LooseDef | undefined {
  return (schema as { _zod?: { def?: LooseDef } } | undefined)?._zod?.def;
}

function unwrap(schema: unknown): unknown {
  let current = schema;
  for (let i = 0; i < 10; i++) {
    const def = defOf(current);
    if (def?.type === 'default' || def?.type === 'optional' || def?.type === 'nullable' || def?.type === 'prefault') current = def.innerType;
    else if (def?.type === 'pipe') current = def.in;
    else return current;
  }
  return current;
}

function unknownKeyHint(key: string, known: string[]): string {
  const close = known
    .map((k) => ({ k, d: editDistance(key.toLowerCase(), k.toLowerCase()) }))
    .filter(({ k, d }) => d <= Math.max(1, Math.floor(k.length / 3)))
    .sort((a, b) => a.d - b.d)[0];
  if (close) return `Did you mean "${close.k}"? Otherwise remove the field (see \`shipgate config schema\`).`;
  if (known.length) return `Remove it, or use one of the fields allowed here: ${known.join(', ')}.`;
  return 'Check the spelling against `shipgate config schema`, or remove the field.';
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}

const TYPE_NAMES: Record<string, string> = {
  object: 'a map of fields (key: value lines)',
  record: 'a map (name: value lines)',
  array: 'a list, e.g. [a, b]',
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
};

function messageFor(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return `expected ${TYPE_NAMES[issue.expected] ?? issue.expected}, got ${describeValue(issue.message)}`;
    case 'invalid_value':
      return `expected ${issue.values.map((v) => JSON.stringify(v)).join(' or ')}`;
    default:
      return issue.message;
  }
}

function describeValue(message: string): string {
  // zod: "Invalid input: expected number, received string"
  return /received (\w+)/.exec(message)?.[1] ?? 'something else';
}

function hintFor(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return `Change the value to ${TYPE_NAMES[issue.expected] ?? `a ${issue.expected}`}.`;
    case 'invalid_value':
      return `Use ${issue.values.length === 1 ? '' : 'one of: '}${issue.values.map((v) => JSON.stringify(v)).join(', ')}.`;
    case 'invalid_union': {
      const options = 'options' in issue ? issue.options : undefined;
      return options?.length ? `Use one of: ${options.map((v) => JSON.stringify(v)).join(', ')}.` : 'See `shipgate config schema` for what this field accepts.';
    }
    case 'custom':
      return typeof issue.params?.hint === 'string' ? issue.params.hint : 'See `shipgate config schema` for what this field accepts.';
    case 'too_small':
      if (issue.origin === 'string' && Number(issue.minimum) === 1) return 'Use a non-empty string.';
      return `Use a value of at least ${String(issue.minimum)}${issue.origin === 'string' ? ' characters' : issue.origin === 'array' ? ' items' : ''}.`;
    case 'too_big':
      return `Use a value of at most ${String(issue.maximum)}${issue.origin === 'string' ? ' characters' : issue.origin === 'array' ? ' items' : ''}.`;
    default:
      return 'See `shipgate config schema` for what this field accepts.';
  }
}
