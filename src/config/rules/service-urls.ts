import type { ShipgateConfig } from '../schema.js';
import { forEachEntry } from './rule.js';

/** A service's health or metrics URL, whichever shape the field has (a string, or `{ url }`), with its path. */
export interface ServiceUrl {
  service: string;
  kind: 'health' | 'metrics';
  url: string;
  path: (string | number)[];
  /** Environment of an override; undefined for the base service. */
  env: string | undefined;
}

function urlOf(value: unknown, at: (string | number)[]): { url: string; path: (string | number)[] } | undefined {
  if (typeof value === 'string') return { url: value, path: at };
  if (value && typeof value === 'object' && typeof (value as { url?: unknown }).url === 'string') return { url: (value as { url: string }).url, path: [...at, 'url'] };
  return undefined;
}

/** Every health and metrics URL of the config: base services and per-environment overrides. */
export function serviceUrls(config: ShipgateConfig): ServiceUrl[] {
  const out: ServiceUrl[] = [];
  const add = (service: string, env: string | undefined, spec: Record<string, unknown>, at: () => (string | number)[]) => {
    for (const kind of ['health', 'metrics'] as const) {
      if (spec[kind] === undefined) continue; // most services of a big file: no path built for them
      const u = urlOf(spec[kind], [...at(), kind]);
      if (u) out.push({ service, kind, env, ...u });
    }
  };
  forEachEntry(config.services, (name, spec) => add(name, undefined, spec as Record<string, unknown>, () => ['services', name]));
  for (const [env, e] of Object.entries(config.environments)) {
    forEachEntry(e.services, (name, spec) => add(name, env, spec as Record<string, unknown>, () => ['environments', env, 'services', name]));
  }
  return out;
}

/** The port a URL names (its scheme's default when none), undefined when it is not a URL or uses `{port}`. */
export function urlPort(url: string, servicePort: number | undefined): number | undefined {
  const text = url.replaceAll('{port}', servicePort !== undefined ? String(servicePort) : '1').replaceAll('{service}', 'x');
  try {
    const u = new URL(text);
    if (u.port) return Number(u.port);
    return u.protocol === 'http:' ? 80 : u.protocol === 'https:' ? 443 : undefined;
  } catch {
    return undefined;
  }
}
