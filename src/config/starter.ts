import { parseDocument } from 'yaml';
import { badInput } from '../core/errors.js';

export interface StarterService {
  name: string;
  command: string[];
  port: number | undefined;
}

const DEFAULT_SERVICES: StarterService[] = [
  { name: 'signal_service', command: ['node', 'signal_service/main.mjs'], port: 8001 },
  { name: 'execution_gateway', command: ['node', 'execution_gateway/main.mjs'], port: 8002 },
  { name: 'orchestrator', command: ['node', 'orchestrator/main.mjs'], port: 8003 },
];

/** A commented shipgate.yml that validates as written. */
export function starterConfig(services: StarterService[] = DEFAULT_SERVICES, source?: string): string {
  const svc = services
    .map((s) => {
      const port = s.port ?? 8000;
      return [
        `  ${s.name}:`,
        `    # The program and its arguments, run from the release checkout (never a shell string).`,
        `    command: ${JSON.stringify(s.command)}`,
        `    port: ${port}                      # passed to the service as PORT`,
        `    health: http://127.0.0.1:{port}/health   # 200 (and the deployed version, if reported) = healthy`,
        `    metrics: http://127.0.0.1:{port}/metrics # Prometheus text format`,
      ].join('\n');
    })
    .join('\n');
  const stagingPorts = services.map((s) => `      ${s.name}: { port: ${(s.port ?? 8000) + 10000} }`).join('\n');
  return `# shipgate configuration${source ? ` (services taken from ${source})` : ''}.
# Check it with \`shipgate config check\`; the JSON Schema is \`shipgate config schema\`.
version: 1
project: trading_platform
# The git repository releases come from (tags or commits), relative to this file.
repository: .
# Where shipgate keeps its state (SQLite store, release checkouts, logs).
# Set SHIPGATE_DATABASE_URL=postgres://... to keep the store in PostgreSQL instead.
stateDir: .shipgate

services:
${svc}

environments:
  staging:
    target: { type: process }      # services run as local processes from a git worktree
    env: { TRADING_MODE: paper }    # variables for every service here (secrets: use passEnv)
    services:                       # per-environment overrides, so both can run on one host
${stagingPorts}
    health:
      timeout: 30s                  # how long verification may take
      interval: 1s                  # how often each health URL is polled
  production:
    target: { type: process }
    env: { TRADING_MODE: live }
    health:
      timeout: 30s
      interval: 1s
`;
}

/** Services and host ports from a docker-compose file, for `shipgate init --from`. */
export function servicesFromCompose(text: string, file: string): StarterService[] {
  const doc = parseDocument(text);
  if (doc.errors.length) {
    const e = doc.errors[0]!;
    throw badInput(`${file} is not valid YAML: ${e.message.split('\n')[0]}`, { where: `${file}:${e.linePos?.[0]?.line ?? 1}:${e.linePos?.[0]?.col ?? 1}`, hint: 'Fix the compose file, or run `shipgate init` without --from.' });
  }
  const data = doc.toJS() as { services?: Record<string, { ports?: unknown[]; command?: unknown }> } | null;
  const services = data?.services;
  if (!services || typeof services !== 'object' || Object.keys(services).length === 0) {
    throw badInput(`${file} declares no services`, { where: `${file}: services`, hint: 'Point --from at the compose file that defines your stack.' });
  }
  return Object.entries(services).map(([name, spec]) => ({
    name: name.toLowerCase().replace(/[^a-z0-9_-]/g, '_'),
    command: commandOf(spec?.command, name, file),
    port: hostPort(spec?.ports?.[0]),
  }));
}

function commandOf(command: unknown, name: string, file: string): string[] {
  if (Array.isArray(command) && command.length) return command.map(String);
  if (typeof command === 'string' && command.trim()) return command.trim().split(/\s+/);
  // No command in the compose file: run the service through compose itself in the foreground.
  return ['docker-compose', '-f', file, 'up', '--no-deps', name];
}

function hostPort(entry: unknown): number | undefined {
  if (typeof entry === 'number') return entry;
  if (typeof entry === 'string') {
    // "8001", "8001:8000", "127.0.0.1:8001:8000", "8001:8000/tcp"
    const parts = entry.split('/')[0]!.split(':');
    const host = parts.length >= 2 ? parts[parts.length - 2] : parts[0];
    const n = Number(host);
    return Number.isInteger(n) && n > 0 ? n : undefined;
  }
  if (entry && typeof entry === 'object') {
    const e = entry as { published?: unknown; target?: unknown };
    const n = Number(e.published ?? e.target);
    return Number.isInteger(n) && n > 0 ? n : undefined;
  }
  return undefined;
}
