import { isNode, isScalar, type Document, type LineCounter } from 'yaml';
import type { z } from 'zod';
import type { RuleFinding } from './rules/rule.js';
import { editDistance } from '../core/closest.js';
import { nodeAt, pairAt } from './positions.js';
import { configSchema } from './schema.js';

/** What `config check` reports, and how: schema issues and rule findings placed at file:line:col. */

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

type Segment = string | number;

/** Rule findings, in the rules' order, placed by the document's nodes and sorted by position. */
export function locateFindings(findings: RuleFinding[], doc: Document, lc: LineCounter, file: string): ConfigProblem[] {
  const found: ConfigProblem[] = [];
  for (const f of findings) {
    const last = f.path[f.path.length - 1];
    const offset = f.at === 'key' && last !== undefined ? keyOffset(doc, f.path.slice(0, -1), last) : valueOffset(doc, f.path);
    const { line, col } = lc.linePos(offset);
    found.push({ file, line, col, path: f.path.join('.'), message: f.message, hint: f.hint, ...(f.severity === 'warning' ? { severity: 'warning' as const } : {}) });
  }
  return byPosition(found);
}

export function byPosition(problems: ConfigProblem[]): ConfigProblem[] {
  return problems
    .map((p, i) => ({ p, i }))
    .sort((a, b) => a.p.line - b.p.line || a.p.col - b.p.col || a.i - b.i)
    .map(({ p }) => p);
}

export function describeIssue(issue: z.core.$ZodIssue, doc: Document, lc: LineCounter, file: string, data: unknown): ConfigProblem[] {
  const issuePath: Segment[] = issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p));
  const make = (fieldPath: Segment[], offset: number, message: string, hint: string): ConfigProblem => {
    const { line, col } = lc.linePos(offset);
    return { file, line, col, path: fieldPath.join('.') || '(root)', message, hint };
  };

  // One problem per unknown key, each pointing at the key itself.
  if (issue.code === 'unrecognized_keys') {
    const known = knownKeys(issuePath, data);
    return issue.keys.map((key) => {
      const elsewhere = known.ownerTypes(key);
      const message = elsewhere.length ? `field "${key}" does not belong to a check of type ${known.type}` : `unknown field "${key}"`;
      const hint = elsewhere.length
        ? `"${key}" belongs to checks of type ${elsewhere.join(', ')}. Remove it here, or change the type; a ${known.type} check takes: ${known.keys.join(', ')}.`
        : unknownKeyHint(key, known.keys);
      return make([...issuePath, key], keyOffset(doc, issuePath, key), message, hint);
    });
  }

  // A value none of a union's shapes accepts: when one shape fits but for a field inside it
  // (health: { status: { healthy: [...] } }), report that field, not the whole union.
  const inner = innerIssues(issue);
  if (inner) return inner.flatMap((i) => describeIssue({ ...i, path: [...issue.path, ...i.path] }, doc, lc, file, data));

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

/** The issues of the union branch that got furthest, when it got past the union's own value. */
function innerIssues(issue: z.core.$ZodIssue): z.core.$ZodIssue[] | undefined {
  if (issue.code !== 'invalid_union' || !('errors' in issue) || !Array.isArray(issue.errors)) return undefined;
  const depth = (branch: z.core.$ZodIssue[]) => Math.max(...branch.map((i) => i.path.length));
  const deepest = issue.errors.filter((b) => b.length && depth(b) > 0).sort((a, b) => depth(b) - depth(a))[0];
  return deepest;
}

interface KnownKeys {
  keys: string[];
  /** For a check of a known type: its type. */
  type?: string;
  /** The other check types a field belongs to (empty when it belongs to none). */
  ownerTypes(key: string): string[];
}

/** The fields the schema allows in the map at `p` (for a check: those of its type), for "did you mean" hints. */
function knownKeys(p: Segment[], data: unknown): KnownKeys {
  const none = { keys: [] as string[], ownerTypes: () => [] };
  let schema: unknown = unwrap(configSchema);
  for (const seg of p) {
    const def = defOf(schema);
    if (def?.type === 'object') schema = unwrap(def.shape?.[String(seg)]);
    else if (def?.type === 'record') schema = unwrap(def.valueType);
    else if (def?.type === 'array') schema = unwrap(def.element);
    else return none;
    if (!schema) return none;
  }
  const def = defOf(schema);
  if (def?.type === 'union') {
    // The kinds of analysis check: the fields of the kind this map names in `type`.
    const shapes = (def.options ?? []).flatMap((o) => {
      const d = defOf(unwrap(o));
      return d?.type === 'object' && d.shape ? [{ type: literalOf(d.shape.type), keys: Object.keys(d.shape) }] : [];
    });
    const type = valueAt(data, [...p, 'type']);
    const own = shapes.find((s) => s.type !== undefined && s.type === type);
    if (own) return { keys: own.keys, type: own.type, ownerTypes: (key) => shapes.filter((s) => s !== own && s.keys.includes(key)).map((s) => s.type!) };
    return { keys: [...new Set(shapes.flatMap((s) => s.keys))], ownerTypes: () => [] };
  }
  return { ...none, keys: def?.type === 'object' && def.shape ? Object.keys(def.shape) : [] };
}

function literalOf(schema: unknown): string | undefined {
  const def = defOf(unwrap(schema)) as (LooseDef & { values?: unknown[] }) | undefined;
  return def?.type === 'literal' && typeof def.values?.[0] === 'string' ? def.values[0] : undefined;
}

function valueAt(data: unknown, p: Segment[]): unknown {
  let node = data;
  for (const seg of p) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string, unknown>)[String(seg)];
  }
  return node;
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
    case 'invalid_union': {
      const expected = unionTypes(issue);
      return expected ? `expected ${expected}, got ${describeValue(issue.errors[0]?.[0]?.message ?? '')}` : issue.message;
    }
    default:
      return issue.message;
  }
}

/** "a string, a number or true or false" when every shape of a union failed on the value's type. */
function unionTypes(issue: z.core.$ZodIssue): string | undefined {
  if (issue.code !== 'invalid_union' || !Array.isArray(issue.errors)) return undefined;
  const types = issue.errors.map((b) => (b.length === 1 && b[0]!.code === 'invalid_type' && b[0]!.path.length === 0 ? b[0]!.expected : undefined));
  if (!types.length || types.some((t) => t === undefined)) return undefined;
  const names = types.map((t) => TYPE_NAMES[t!] ?? t!);
  return names.length > 1 ? `${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}` : names[0];
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
      const expected = unionTypes(issue);
      if (expected) return `Change the value to ${expected}.`;
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
