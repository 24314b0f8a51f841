import type { ServiceStatus } from '../target.js';
import { ONEOFF_LABEL, SERVICE_LABEL } from './commands.js';

/** A service as the resolved compose configuration declares it. */
export interface ComposeService {
  name: string;
  /** The image reference after interpolation, e.g. `trading/gateway:v1.2.3`; undefined when compose names it. */
  image: string | undefined;
  /** Has a `build:` section. */
  buildable: boolean;
  /** `stop_grace_period` in whole seconds, when set. */
  stopGraceSeconds?: number;
  /** `profiles:` of the service: it runs only when one of them is activated. */
  profiles?: string[];
}

/** The services `up` starts with these profiles active (v1's `config` lists every service, whatever its profiles). */
export function activeServices(services: ComposeService[], profiles: string[]): ComposeService[] {
  return services.filter((s) => !s.profiles?.length || s.profiles.some((p) => profiles.includes(p)));
}

const DURATION_UNITS: Record<string, number> = { h: 3600, m: 60, s: 1, ms: 0.001, us: 0.000001 };

/** Compose durations (`1m30s`, `500ms`, `10s`, or a number of seconds), rounded up to seconds. */
export function composeDurationSeconds(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return Math.ceil(value);
  if (typeof value !== 'string' || !/^(\d+(\.\d+)?(h|ms|m|s|us))+$/.test(value.trim())) return undefined;
  let total = 0;
  for (const m of value.trim().matchAll(/(\d+(?:\.\d+)?)(h|ms|m|s|us)/g)) total += Number(m[1]) * DURATION_UNITS[m[2]!]!;
  return Math.ceil(total);
}

/**
 * `docker image ls` prints Docker Hub images without `docker.io/` and `library/`, and every
 * image with a tag; this maps a reference from a compose file to that form.
 */
export function normalizeImageRef(ref: string): string {
  let r = ref.replace(/^docker\.io\//, '').replace(/^index\.docker\.io\//, '');
  if (r.startsWith('library/') && !r.slice('library/'.length).includes('/')) r = r.slice('library/'.length);
  const lastSlash = r.lastIndexOf('/');
  if (!r.includes('@') && !r.slice(lastSlash + 1).includes(':')) r = `${r}:latest`;
  return r;
}

/** The lines of `docker image ls --format '{{.Repository}}:{{.Tag}}'`, normalized. */
export function parseImageList(stdout: string): Set<string> {
  return new Set(stdout.split('\n').map((l) => l.trim()).filter((l) => l && !l.includes('<none>')).map(normalizeImageRef));
}

export type ContainerHealth = 'healthy' | 'unhealthy' | 'starting' | 'none';

export interface ComposeServiceStatus extends ServiceStatus {
  /** Engine state: running, exited, created, restarting, paused, dead. */
  status: string;
  /** Exit code of the last run (meaningful when not running). */
  exitCode: number | undefined;
  /** The container's own healthcheck, `none` without one. */
  health: ContainerHealth;
  container: string;
  image: string;
}

interface InspectDoc {
  Id?: string;
  Name?: string;
  Config?: { Image?: string; Labels?: Record<string, string> | null };
  State?: { Status?: string; Running?: boolean; Restarting?: boolean; ExitCode?: number; Pid?: number; StartedAt?: string; Health?: { Status?: string } | null };
}

/**
 * Maps `docker inspect` output to per-service statuses, one per service (when a service has
 * several containers, a running one wins). One-off containers (`compose run`) are ignored.
 */
export function parseInspect(text: string, known: { version: string | undefined; ports: Record<string, number | undefined>; order: string[] }): ComposeServiceStatus[] {
  const docs = JSON.parse(text || '[]') as InspectDoc[];
  const byService = new Map<string, ComposeServiceStatus>();
  for (const d of docs) {
    const labels = d.Config?.Labels ?? {};
    const service = labels[SERVICE_LABEL];
    if (!service || /^true$/i.test(labels[ONEOFF_LABEL] ?? '')) continue;
    const st = d.State ?? {};
    const running = st.Running === true && st.Status !== 'paused';
    const health = (['healthy', 'unhealthy', 'starting'] as const).find((h) => h === st.Health?.Status) ?? 'none';
    const status: ComposeServiceStatus = {
      service,
      state: running ? 'running' : 'stopped',
      version: known.version,
      ...(running && st.Pid ? { pid: st.Pid } : {}),
      port: known.ports[service],
      ...(st.StartedAt && !st.StartedAt.startsWith('0001-') ? { startedAt: st.StartedAt } : {}),
      status: st.Status ?? 'unknown',
      exitCode: running ? undefined : st.ExitCode,
      health,
      container: (d.Name ?? d.Id ?? '').replace(/^\//, ''),
      image: d.Config?.Image ?? '',
    };
    const previous = byService.get(service);
    if (!previous || (previous.state !== 'running' && running)) byService.set(service, status);
  }
  const rank = (s: string) => (known.order.includes(s) ? known.order.indexOf(s) : known.order.length);
  return [...byService.values()].sort((a, b) => rank(a.service) - rank(b.service) || a.service.localeCompare(b.service));
}

/**
 * Splits `compose logs` output without `--no-log-prefix` into lines per service. The prefix is
 * `<service>_<n>  | ` (v1 container name) or `<service>-<n>  | ` (v2); v1 also prints
 * `Attaching to ...` first.
 */
export function splitPrefixedLogs(stdout: string, services: string[]): Map<string, string[]> {
  const out = new Map<string, string[]>(services.map((s) => [s, []]));
  // Longest names first, so `api` never claims the lines of `api_gateway`.
  const names = [...services].sort((a, b) => b.length - a.length);
  for (const raw of stdout.split('\n')) {
    const m = /^(\S+?)\s*\| ?(.*)$/.exec(raw);
    if (!m) continue;
    const container = m[1]!;
    const name = names.find((n) => container === n || new RegExp(`^(?:.*[_-])?${escapeRegExp(n)}[_-]\\d+$`).test(container));
    if (name) out.get(name)!.push(m[2]!);
  }
  return out;
}

/** Lines of `compose logs --no-log-prefix <service>`, without v1's `Attaching to` header. */
export function plainLogLines(stdout: string): string[] {
  const lines = stdout.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines[0]?.startsWith('Attaching to ') ? lines.slice(1) : lines;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
