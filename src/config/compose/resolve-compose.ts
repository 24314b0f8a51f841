import { readFileSync } from 'node:fs';
import path from 'node:path';
import { LineCounter, parseDocument, parse as parseYaml } from 'yaml';
import { badInput } from '../../core/errors.js';
import { interpolateDeep } from './interpolate.js';

export { composeEnvironment } from './dotenv.js';

/**
 * Compose files resolved the way compose does, without compose: YAML anchors and `<<:` merge
 * keys (the yaml library), several files merged in order, `extends` (same file or another),
 * interpolation with nested defaults, and profiles. Used by `init --from` when
 * `docker-compose config` is not there or cannot be trusted, and by `config check`.
 */
export interface ComposeModel {
  /** Top-level `name:`, when set. */
  name: string | undefined;
  /** Every service, whatever its profiles. */
  services: Record<string, Record<string, unknown>>;
}

export interface ResolvedCompose {
  /** As written (anchors, merges and extends applied, no interpolation): where `${TAG}` is still visible. */
  raw: ComposeModel;
  /** Interpolated with the given variables. */
  resolved: ComposeModel;
  /** `${VAR:?message}` whose VAR is unset. */
  missingVariables: string[];
}

/** Reads, merges and interpolates compose files; bad YAML is bad input with its position. */
export function resolveComposeFiles(files: string[], vars: Record<string, string | undefined>): ResolvedCompose {
  const raw = mergeAll(files.map((f) => ({ file: f, data: readComposeFile(f) })));
  const errors: string[] = [];
  const resolved = interpolateDeep(raw, vars, errors) as ComposeModel;
  return { raw, resolved, missingVariables: [...new Set(errors)] };
}

/** Services that run with these profiles active (a service without profiles always runs). */
export function activeServiceNames(model: ComposeModel, profiles: string[]): string[] {
  return Object.entries(model.services)
    .filter(([, s]) => {
      const own = Array.isArray(s.profiles) ? s.profiles.map(String) : [];
      return own.length === 0 || own.some((p) => profiles.includes(p));
    })
    .map(([name]) => name);
}

/** Every profile any service declares. */
export function declaredProfiles(model: ComposeModel): string[] {
  return [...new Set(Object.values(model.services).flatMap((s) => (Array.isArray(s.profiles) ? s.profiles.map(String) : [])))];
}

function readComposeFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw badInput(`cannot read ${file}: ${(err as Error).message}`, { where: file, hint: 'Name your compose files, e.g. --from docker-compose.yml --from docker-compose.prod.yml.' });
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, merge: true });
  if (doc.errors.length) {
    const e = doc.errors[0]!;
    const { line, col } = lineCounter.linePos(Math.min(e.pos[0], text.length));
    const message = (e.message.split('\n')[0] ?? e.message).replace(/ at line \d+, column \d+:?$/, '');
    throw badInput(`${file} is not valid YAML: ${message}`, { where: `${file}:${line}:${col}`, hint: 'Fix the compose file, or run `shipgate init` without --from.' });
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 1000 });
  } catch (err) {
    throw badInput(`${file}: ${(err as Error).message}`, { where: file, hint: 'Define each anchor (&name) before its alias (*name).' });
  }
  return isRecord(data) ? data : {};
}

function mergeAll(docs: { file: string; data: Record<string, unknown> }[]): ComposeModel {
  const services: Record<string, Record<string, unknown>> = {};
  let name: string | undefined;
  for (const { file, data } of docs) {
    if (typeof data.name === 'string') name = data.name;
    const own = isRecord(data.services) ? data.services : {};
    for (const [svc, spec] of Object.entries(own)) {
      const resolved = withExtends(file, svc, isRecord(spec) ? spec : {}, own, new Set());
      services[svc] = services[svc] ? mergeService(services[svc], resolved) : resolved;
    }
  }
  return { name, services };
}

/** `extends: base` or `extends: { service: base, file: other.yml }`, recursively; the service's own keys win. */
function withExtends(file: string, name: string, spec: Record<string, unknown>, siblings: Record<string, unknown>, seen: Set<string>): Record<string, unknown> {
  const ext = spec.extends;
  if (ext === undefined) return spec;
  const { extends: _dropped, ...own } = spec;
  const baseName = typeof ext === 'string' ? ext : isRecord(ext) && typeof ext.service === 'string' ? ext.service : undefined;
  const baseFile = isRecord(ext) && typeof ext.file === 'string' ? path.resolve(path.dirname(file), ext.file) : file;
  const key = `${baseFile}#${baseName}`;
  if (!baseName || seen.has(key)) {
    throw badInput(`${file}: service ${name} ${baseName ? 'extends itself (a cycle)' : 'has an `extends` without a service'}`, { where: `${file}: services.${name}.extends`, hint: 'extends: { service: <name>, file: <optional other file> }' });
  }
  seen.add(key);
  const pool = baseFile === file ? siblings : ((readComposeFile(baseFile).services ?? {}) as Record<string, unknown>);
  const base = pool[baseName];
  if (!isRecord(base)) {
    throw badInput(`${file}: service ${name} extends ${baseName}, which ${path.basename(baseFile)} does not define`, { where: `${file}: services.${name}.extends`, hint: 'Name a service defined in that file.' });
  }
  return mergeService(withExtends(baseFile, baseName, base, pool, seen), own);
}

// Compose merges these lists (override files add ports, volumes…); other lists are replaced.
const APPENDED = new Set(['ports', 'expose', 'volumes', 'dns', 'dns_search', 'tmpfs', 'external_links', 'cap_add', 'cap_drop', 'devices', 'security_opt', 'env_file']);

export function mergeService(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    if (APPENDED.has(k) && Array.isArray(b) && Array.isArray(v)) out[k] = [...b, ...v.filter((x) => !b.some((y) => JSON.stringify(y) === JSON.stringify(x)))];
    else if (k === 'environment' || k === 'labels') out[k] = { ...keyValues(b), ...keyValues(v) };
    else if (isRecord(b) && isRecord(v)) out[k] = mergeService(b, v);
    else out[k] = v;
  }
  return out;
}

/** `environment:` as a map, from either the map or the `KEY=value` list form. */
export function keyValues(value: unknown): Record<string, unknown> {
  if (isRecord(value)) return value;
  if (!Array.isArray(value)) return {};
  return Object.fromEntries(value.map(String).map((e) => (e.includes('=') ? [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)] : [e, null])));
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Parses `compose config` output into the same model (it has applied merges, extends and interpolation). */
export function modelFromConfigOutput(text: string): ComposeModel {
  const data = parseYaml(text) as unknown;
  const services = isRecord(data) && isRecord(data.services) ? data.services : {};
  return { name: isRecord(data) && typeof data.name === 'string' ? data.name : undefined, services: Object.fromEntries(Object.entries(services).map(([k, v]) => [k, isRecord(v) ? v : {}])) };
}
