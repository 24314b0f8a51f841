import { LineCounter, parseDocument } from 'yaml';
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
export function starterConfig(services: StarterService[] = DEFAULT_SERVICES, sourceFile?: string): string {
  // The source only appears in comments; keep it on one line.
  const source = sourceFile?.replace(/[\r\n]+/g, ' ');
  const svc = services
    .map((s) => {
      const lines = [`  ${s.name}:`, `    # The program and its arguments, run from the release checkout (never a shell string).`, `    command: ${JSON.stringify(s.command)}`];
      if (s.port === undefined) {
        lines.push(`    # port: 8000                    # no port found${source ? ` in ${source}` : ''}; add one (and health:) if it serves HTTP`);
      } else {
        lines.push(
          `    port: ${s.port}                      # passed to the service as PORT`,
          `    health: http://127.0.0.1:{port}/health   # 200 (and the deployed version, if reported) = healthy`,
          `    metrics: http://127.0.0.1:{port}/metrics # Prometheus text format`,
        );
      }
      return lines.join('\n');
    })
    .join('\n');
  const overrides = services.filter((s) => s.port !== undefined).map((s) => `      ${s.name}: { port: ${stagingPort(s.port!)} }`);
  const stagingServices = overrides.length
    ? `    services:                       # per-environment overrides, so both can run on one host\n${overrides.join('\n')}\n`
    : '';
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
${stagingServices}    health:
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

/** Staging runs next to production on one host: shift its ports, staying in the valid range. */
function stagingPort(port: number): number {
  return port + 10000 <= 65535 ? port + 10000 : port > 10000 ? port - 10000 : port + 1;
}

const NAME = /^[a-z][a-z0-9_-]{0,62}$/;

/** Services and host ports from a docker-compose file, for `shipgate init --from`. */
export function servicesFromCompose(text: string, file: string): StarterService[] {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length) {
    const e = doc.errors[0]!;
    const { line, col } = lineCounter.linePos(Math.min(e.pos[0], text.length));
    const message = (e.message.split('\n')[0] ?? e.message).replace(/ at line \d+, column \d+:?$/, '');
    throw badInput(`${file} is not valid YAML: ${message}`, { where: `${file}:${line}:${col}`, hint: 'Fix the compose file, or run `shipgate init` without --from.' });
  }
  const data: unknown = doc.toJS();
  const services = isRecord(data) ? data.services : undefined;
  if (!isRecord(services) || Object.keys(services).length === 0) {
    throw badInput(`${file} declares no services`, { where: `${file}: services`, hint: 'Point --from at the compose file that defines your stack (it needs a `services:` map).' });
  }
  const used = new Set<string>();
  return Object.entries(services).map(([name, raw]) => {
    const spec = isRecord(raw) ? raw : {};
    const ports = Array.isArray(spec.ports) ? spec.ports : [];
    return {
      name: serviceName(name, used),
      command: commandOf(spec.command, name, file),
      port: ports.map(hostPort).find((p) => p !== undefined),
    };
  });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A valid, unique shipgate service name for a compose service name. */
function serviceName(composeName: string, used: Set<string>): string {
  let base = composeName.toLowerCase().replace(/[^a-z0-9_-]/g, '_');
  if (!/^[a-z]/.test(base)) base = `svc_${base}`;
  base = base.slice(0, 60);
  let name = base;
  for (let i = 2; used.has(name) || !NAME.test(name); i++) name = `${base}_${i}`;
  used.add(name);
  return name;
}

function commandOf(command: unknown, name: string, file: string): string[] {
  const argv = Array.isArray(command) ? command.map(String) : typeof command === 'string' ? splitCommand(command) : [];
  const nonEmpty = argv.filter((a) => a.length > 0);
  if (nonEmpty.length) return nonEmpty;
  // No command in the compose file: run the service through compose itself in the foreground.
  return ['docker-compose', '-f', file, 'up', '--no-deps', name];
}

/** Splits a compose string command the way compose does (shell-like words and quotes, no expansion). */
function splitCommand(command: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < command.length; i++) {
    const c = command[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"' && i + 1 < command.length) word += command[++i];
      else word += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else if (c === '\\' && i + 1 < command.length) {
      word += command[++i];
      inWord = true;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words;
}

function hostPort(entry: unknown): number | undefined {
  const valid = (n: number) => (Number.isInteger(n) && n > 0 && n <= 65535 ? n : undefined);
  if (typeof entry === 'number') return valid(entry);
  if (typeof entry === 'string') {
    // "8001", "8001:8000", "127.0.0.1:8001:8000", "8001:8000/tcp", "[::1]:8001:8000"
    const parts = entry.split('/')[0]!.replace(/^\[[^\]]*\]/, 'ip').split(':');
    const host = parts.length >= 2 ? parts[parts.length - 2] : parts[0];
    return host && /^\d+$/.test(host) ? valid(Number(host)) : undefined;
  }
  if (isRecord(entry)) {
    const value = entry.published ?? entry.target;
    return typeof value === 'number' || (typeof value === 'string' && /^\d+$/.test(value)) ? valid(Number(value)) : undefined;
  }
  return undefined;
}
