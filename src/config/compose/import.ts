import { badInput } from '../../core/errors.js';
import { imageBaseName, isInfrastructureImage } from './infrastructure.js';
import { variablesIn } from './interpolate.js';
import { activeServiceNames, declaredProfiles, isRecord, keyValues, type ComposeModel } from './resolve-compose.js';

/** What `init --from` learned about one compose service. */
export interface ImportedService {
  /** The compose service name; shipgate's name is the same (the compose target matches containers by it). */
  name: string;
  /** `service`: part of the release, deployed and verified; `dependency`: infrastructure beside it. */
  role: 'service' | 'dependency';
  image: string | undefined;
  /** The image as written, e.g. `ghcr.io/acme/api:${TAG:-latest}`. */
  rawImage: string | undefined;
  port: number | undefined;
  /** Where the port came from (shown in a comment). */
  portFrom: string | undefined;
  /** The port is `${<NAME>_PORT…}` in the compose file, so shipgate's per-environment port reaches it. */
  portIsVariable: boolean;
  healthPath: string | undefined;
  /** Whether the path was read from the service's healthcheck (else it is a guess). */
  healthFromCompose: boolean;
  /** Variables its `environment:` is interpolated with (a service given `${TAG}` can report the release). */
  environmentVariables: string[];
  /** Why its image does not follow the release, when it does not. */
  floating: string | undefined;
}

export interface ImportedStack {
  project: string;
  services: ImportedService[];
  versionVariable: string;
  /** target.images.tag */
  tagTemplate: string;
  /** Whether versionVariable was found in an image tag (else it is the default, TAG). */
  versionVariableFound: boolean;
  profiles: string[];
  /** Services left out because none of their profiles is active. */
  inactive: string[];
}

const NAME = /^[a-z][a-z0-9_-]{0,62}$/;

/**
 * Classifies the services of resolved compose files: infrastructure by image; the rest are the
 * release's services, with the port they serve HTTP on and the health path of their healthcheck.
 */
export function importCompose(input: { raw: ComposeModel; resolved: ComposeModel; profiles: string[]; fallbackProject: string; source: string }): ImportedStack {
  const { raw, resolved, profiles } = input;
  const names = Object.keys(resolved.services);
  if (names.length === 0) {
    throw badInput(`${input.source} declares no services`, { where: `${input.source}: services`, hint: 'Point --from at the compose file that defines your stack (it needs a `services:` map).' });
  }
  const declared = declaredProfiles(resolved);
  const unknown = profiles.filter((p) => !declared.includes(p));
  if (unknown.length) {
    throw badInput(`profile ${unknown.join(', ')} is not declared by any service in ${input.source}`, { where: '--profile', hint: declared.length ? `Declared profiles: ${declared.join(', ')}.` : 'No service declares `profiles:`; drop --profile.' });
  }
  const active = activeServiceNames(resolved, profiles);
  const invalid = active.filter((n) => !NAME.test(n));
  if (invalid.length) {
    throw badInput(`compose service name${invalid.length > 1 ? 's' : ''} ${invalid.join(', ')} cannot be shipgate service names`, {
      where: input.source,
      hint: 'shipgate matches containers by their compose service name, which must then be lower-case letters, digits, "_" and "-" (starting with a letter): rename the service in the compose file.',
    });
  }
  const base = active.map((name) => analyse(name, raw.services[name] ?? {}, resolved.services[name] ?? {}));
  const { variable, found, template } = versionVariableOf(base);
  const services = base.map((s) => ({ ...s, floating: s.role === 'service' ? floatingReason(s, variable) : undefined }));
  return {
    project: projectName(resolved.name ?? input.fallbackProject),
    services,
    versionVariable: variable,
    versionVariableFound: found,
    tagTemplate: template,
    profiles,
    inactive: names.filter((n) => !active.includes(n)),
  };
}

function analyse(name: string, raw: Record<string, unknown>, svc: Record<string, unknown>): Omit<ImportedService, 'floating'> {
  const image = typeof svc.image === 'string' && svc.image ? svc.image : undefined;
  const rawImage = typeof raw.image === 'string' && raw.image ? raw.image : undefined;
  const role = isInfrastructureImage(image ?? rawImage) ? 'dependency' : 'service';
  const found = portOf(raw, svc);
  const health = healthPathOf(svc.healthcheck);
  return {
    name,
    role,
    image,
    rawImage,
    port: found?.port,
    portFrom: found?.from,
    portIsVariable: found?.variables.includes(`${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_PORT`) ?? false,
    healthPath: health,
    healthFromCompose: health !== undefined,
    environmentVariables: variablesIn(JSON.stringify(keyValues(raw.environment))),
  };
}

/** Published port, else an exposed one, else PORT-like environment (host networking), else the healthcheck's. */
function portOf(raw: Record<string, unknown>, svc: Record<string, unknown>): { port: number; from: string; variables: string[] } | undefined {
  const list = (v: unknown) => (Array.isArray(v) ? v : []);
  const ports = list(svc.ports);
  for (let i = 0; i < ports.length; i++) {
    const p = hostPort(ports[i]);
    if (p !== undefined) return { port: p, from: 'ports', variables: variablesIn(JSON.stringify(list(raw.ports)[i] ?? '')) };
  }
  const expose = list(svc.expose);
  for (let i = 0; i < expose.length; i++) {
    const p = toPort(String(expose[i]).split('/')[0]);
    if (p !== undefined) return { port: p, from: 'expose', variables: variablesIn(JSON.stringify(list(raw.expose)[i] ?? '')) };
  }
  const env = keyValues(svc.environment);
  const rawEnv = keyValues(raw.environment);
  for (const key of Object.keys(env).sort((a, b) => rank(a) - rank(b))) {
    if (rank(key) > 2) break;
    const p = toPort(String(env[key] ?? ''));
    if (p !== undefined) return { port: p, from: `environment ${key}`, variables: variablesIn(String(rawEnv[key] ?? '')) };
  }
  const url = healthUrlOf(svc.healthcheck);
  const p = url?.port ? toPort(url.port) : undefined;
  return p !== undefined ? { port: p, from: 'healthcheck', variables: [] } : undefined;
}

function rank(key: string): number {
  return key === 'PORT' ? 0 : key === 'HTTP_PORT' ? 1 : /^[A-Z0-9_]*HTTP_PORT$|^(APP|SERVER|API|WEB)_PORT$/.test(key) ? 2 : 3;
}

function toPort(text: string | undefined): number | undefined {
  if (!text || !/^\d+$/.test(text.trim())) return undefined;
  const n = Number(text);
  return n > 0 && n <= 65535 ? n : undefined;
}

export function hostPort(entry: unknown): number | undefined {
  if (typeof entry === 'number') return toPort(String(entry));
  if (typeof entry === 'string') {
    // "8001", "8001:8000", "127.0.0.1:8001:8000", "8001:8000/tcp", "[::1]:8001:8000"
    const parts = entry.split('/')[0]!.replace(/^\[[^\]]*\]/, 'ip').split(':');
    return toPort(parts.length >= 2 ? parts[parts.length - 2] : parts[0]);
  }
  if (isRecord(entry)) return toPort(String(entry.published ?? entry.target ?? ''));
  return undefined;
}

function healthcheckText(healthcheck: unknown): string {
  if (!isRecord(healthcheck)) return '';
  const test = healthcheck.test;
  return Array.isArray(test) ? test.map(String).join(' ') : typeof test === 'string' ? test : '';
}

function healthUrlOf(healthcheck: unknown): { port: string | undefined; path: string } | undefined {
  const m = /https?:\/\/(?:localhost|127\.0\.0\.1|0\.0\.0\.0|\[::1\])(?::(\d+))?(\/[\w\-./]*)?/.exec(healthcheckText(healthcheck));
  return m ? { port: m[1], path: m[2] ?? '/' } : undefined;
}

/** The path the service's own healthcheck asks, e.g. `/healthz`; undefined when it has none over HTTP. */
function healthPathOf(healthcheck: unknown): string | undefined {
  const url = healthUrlOf(healthcheck);
  if (url && url.path !== '/') return url.path;
  const text = healthcheckText(healthcheck);
  if (!/https?:|curl|wget|fetch/.test(text)) return undefined;
  return /['"\s+](\/(?:health|healthz|ready|readyz|live|livez|status|ping)[\w\-./]*)/.exec(text)?.[1] ?? url?.path;
}

/** The variable the release's image tags use, and how a release maps to it. */
function versionVariableOf(services: Omit<ImportedService, 'floating'>[]): { variable: string; found: boolean; template: string } {
  const counts = new Map<string, { n: number; tag: string }>();
  for (const s of services.filter((x) => x.role === 'service' && x.rawImage)) {
    const tag = tagPart(s.rawImage!);
    for (const v of tag ? variablesIn(tag) : []) counts.set(v, { n: (counts.get(v)?.n ?? 0) + 1, tag: tag! });
  }
  const best = [...counts.entries()].sort((a, b) => b[1].n - a[1].n)[0];
  if (!best) return { variable: 'TAG', found: false, template: '{version}' };
  const [variable, { tag }] = best;
  const sha = /SHA|COMMIT/i.test(variable) || /^sha-\$/.test(tag);
  const short = /7|SHORT/i.test(variable) || /^sha-\$/.test(tag);
  return { variable, found: true, template: sha ? (short ? '{sha7}' : '{sha}') : '{version}' };
}

/** The tag part of an image as written: `${REGISTRY}/api:${TAG:-latest}` -> `${TAG:-latest}`. */
function tagPart(image: string): string | undefined {
  // Hide variables first: `${A:-x}` contains colons of its own.
  const masked = image.replace(/\$\{[^}]*\}+/g, (m) => 'V'.repeat(m.length));
  const slash = masked.lastIndexOf('/');
  const colon = masked.indexOf(':', slash + 1);
  return colon >= 0 ? image.slice(colon + 1).split('@')[0] : undefined;
}

function floatingReason(s: Omit<ImportedService, 'floating'>, variable: string): string | undefined {
  if (!s.rawImage) return `has no image: compose names it after the project, the same for every release (add image: <registry>/${s.name}:\${${variable}})`;
  const tag = tagPart(s.rawImage);
  if (tag === undefined) return `${s.rawImage} has no tag, i.e. :latest`;
  if (!variablesIn(tag).includes(variable)) return `${s.rawImage} does not use \${${variable}}${tag === 'latest' ? ' (it is :latest)' : ''}`;
  return undefined;
}

function projectName(name: string): string {
  const p = name.toLowerCase().replace(/[^a-z0-9_-]/g, '_').replace(/^[^a-z0-9]+/, '');
  return p || 'stack';
}

export { imageBaseName };
