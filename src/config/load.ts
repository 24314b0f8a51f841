import path from 'node:path';
import { LineCounter, parseDocument, type Document, type YAMLError } from 'yaml';
import { badInput } from '../core/errors.js';
import { readInPieces } from './parse-in-pieces.js';
import { duplicateKeys } from './positions.js';
import { byPosition, describeIssue, locateFindings, type ConfigProblem } from './problems.js';
import { configRules } from './rules/index.js';
import type { RuleFinding } from './rules/rule.js';
import { configSchema, type ShipgateConfig } from './schema.js';
import { CONFIG_FILE, findConfigFile, locateConfig, readConfigFile } from './locate.js';

export { CONFIG_FILE, findConfigFile, locateConfig, readConfigFile };
export type { ConfigProblem };

export interface LoadedConfig {
  file: string;
  /** Directory of the config file; relative paths in it resolve from here. */
  dir: string;
  config: ShipgateConfig;
}

const YAML_HINT = 'Fix the YAML syntax: check indentation (spaces, not tabs), colons after keys, matching quotes and that no key appears twice in one map.';

/** Parses and validates; returns every problem rather than the first, ordered by position. */
export function checkConfigText(text: string, file: string): { config?: ShipgateConfig; problems: ConfigProblem[] } {
  const dir = path.dirname(path.resolve(file));
  const big = checkBigFile(text, file, dir);
  if (big) return big;
  const parsed = checkSchema(text, file);
  if (!parsed.config) return parsed;
  return withFindings(parsed.config, runRules(parsed.config, dir), parsed.doc!, parsed.lineCounter!, file);
}

function runRules(config: ShipgateConfig, dir: string): RuleFinding[] {
  return configRules.flatMap((rule) => rule({ config, dir }));
}

function withFindings(config: ShipgateConfig, findings: RuleFinding[], doc: Document, lc: LineCounter, file: string): { config?: ShipgateConfig; problems: ConfigProblem[] } {
  const problems = locateFindings(findings, doc, lc, file);
  const blocking = problems.some((f) => f.severity !== 'warning');
  return blocking ? { problems } : { config, problems };
}

/**
 * A big file read in pieces (see readInPieces), checked by the schema and every rule like any
 * other. Its problems are placed in a sparse copy of the file, holding only the entries of the big
 * maps that they name, at their own lines: parsing all 130 000 services as one document took
 * 15 s. Undefined (the whole-document parse decides) when the file cannot be read in pieces.
 */
function checkBigFile(text: string, file: string, dir: string): { config?: ShipgateConfig; problems: ConfigProblem[] } | undefined {
  const read = readInPieces(text);
  if (read === undefined) return undefined;
  const result = configSchema.safeParse(read.data);
  const findings = result.success ? runRules(result.data, dir) : [];
  if (result.success && findings.length === 0) return { config: result.data, problems: [] };
  const paths = result.success ? findings.map((f) => f.path) : result.error.issues.map((issue) => issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p)));
  const lineCounter = new LineCounter();
  const doc = parseDocument(read.sparseText(paths), { lineCounter, prettyErrors: false, uniqueKeys: false, merge: true });
  if (doc.errors.length > 0) return undefined;
  if (result.success) return withFindings(result.data, findings, doc, lineCounter, file);
  return { problems: byPosition(result.error.issues.flatMap((issue) => describeIssue(issue, doc, lineCounter, file, read.data))) };
}

/** Problems that block (errors), without the warnings. */
export function errorsOf(problems: ConfigProblem[]): ConfigProblem[] {
  return problems.filter((p) => p.severity !== 'warning');
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
  return configFromText(readConfigFile(file), file);
}

/** The config in `text` (read from `file`), checked; bad input naming the first problem when it has any. */
export function configFromText(text: string, file: string): LoadedConfig {
  const { config, problems: all } = checkConfigText(text, file);
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

