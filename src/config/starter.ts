import type { ImportedService, ImportedStack } from './compose/import.js';
import { serviceSpec } from './schema/service.js';

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

/** How `init --from` resolved the compose files (said in the header). */
export interface ComposeImportSource {
  /** Compose files as the target lists them: relative to the release checkout. */
  files: string[];
  /** e.g. "docker-compose config (1.29.2)" or "the YAML library (anchors, merges, extends, nested defaults)". */
  resolver: string;
  /** Variables the files require (`${VAR:?}`) that were unset when resolving. */
  missingVariables: string[];
}

const q = (s: string) => (/^[\w./@-]+$/.test(s) && !/^(true|false|null|yes|no|on|off|~)$/i.test(s) ? s : JSON.stringify(s));
const list = (items: string[]) => `[${items.map(q).join(', ')}]`;

/** Whether the service schema takes the health contract object ({ url, status, version }). */
function healthObjectSupported(): boolean {
  return serviceSpec.shape.health.safeParse({ url: 'http://127.0.0.1/health', version: 'ignore' }).success;
}

/** A commented compose-target shipgate.yml for the services of resolved compose files; it validates as written. */
export function composeStarterConfig(stack: ImportedStack, source: ComposeImportSource): string {
  const services = stack.services.filter((s) => s.role === 'service');
  const dependencies = stack.services.filter((s) => s.role === 'dependency');
  const floating = services.filter((s) => s.floating);
  const header = [
    `# shipgate configuration (services taken from ${source.files.join(', ')}${stack.profiles.length ? ` with profile ${stack.profiles.join(', ')}` : ''}).`,
    `# The compose files were resolved with ${source.resolver}.`,
    '# Check it with `shipgate config check`; the JSON Schema is `shipgate config schema`.',
  ];
  if (stack.inactive.length) header.push(`# Left out (their profiles are not active): ${stack.inactive.join(', ')}.`);
  if (source.missingVariables.length) header.push(`# Required variables that were unset when reading the files: ${source.missingVariables.join('; ')}.`);
  if (floating.length) {
    header.push('# NOT PINNED to the release, so deploys and rollbacks are refused (exit 3) until fixed:');
    for (const s of floating) header.push(`#   ${s.name}: ${s.floating}`);
    header.push(`#   Tag its image with \${${stack.versionVariable}}, or set allowFloatingImages: true in the targets below.`);
  }
  const objectHealth = healthObjectSupported();
  const svc = services.length ? services.map((s) => serviceLines(s, stack, objectHealth)).join('\n') : '';
  const target = targetLines(stack, source, dependencies);
  const overrides = services.filter((s) => s.port !== undefined && s.portIsVariable).map((s) => `      ${s.name}: { port: ${stagingPort(s.port!)} }`);
  const fixedPorts = services.filter((s) => s.port !== undefined && !s.portIsVariable).map((s) => s.name);
  const staging = [
    '  staging:',
    '    target:',
    ...target,
    ...(overrides.length ? ['    services:                       # other ports, so staging can run beside production', ...overrides] : []),
    ...(fixedPorts.length ? [`    # ${fixedPorts.join(', ')} publish fixed ports in the compose file: staging and production on one host would collide;`, '    # run them on different hosts (type: ssh), or write the port as ${<SERVICE>_PORT:-8080}, which shipgate sets.'] : []),
    '    health:',
    '      timeout: 60s                  # how long verification may take (containers start slower than processes)',
    '      interval: 2s',
  ];
  const production = ['  production:', '    target:', ...target, '    health:', '      timeout: 60s', '      interval: 2s'];
  return `${header.join('\n')}
version: 1
project: ${q(stack.project)}
# The git repository releases come from (tags or commits), relative to this file.
repository: .
stateDir: .shipgate

# The release's own services: deployed by compose, verified over HTTP.${dependencies.length ? `\n# Infrastructure (${dependencies.map((d) => d.name).join(', ')}) is under target.dependencies: started by compose, no health URL.` : ''}
services:
${svc || '  # no service of the release was found (every one is infrastructure); add the ones you deploy\n  app: {}'}

environments:
${staging.join('\n')}
${production.join('\n')}
`;
}

function serviceLines(s: ImportedService, stack: ImportedStack, objectHealth: boolean): string {
  const lines = [`  ${s.name}:`, `    # compose service ${s.name}${s.rawImage ? `, image ${s.rawImage}` : ', built from the release'}`];
  if (s.port === undefined) {
    lines[0] = `  ${s.name}: {}`;
    lines.push('    # no HTTP port found (ports, expose or a PORT variable): verified by its container state only.', '    # port: 8080', '    # health: http://127.0.0.1:{port}/health');
    return lines.join('\n');
  }
  lines.push(`    port: ${s.port}                       # from ${s.portFrom} in the compose file${s.portIsVariable ? ` (\${${s.name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_PORT}, which shipgate sets)` : ''}`);
  const url = `http://127.0.0.1:{port}${s.healthPath ?? '/health'}`;
  const where = s.healthFromCompose ? '# the path its healthcheck asks' : '# GUESSED: no HTTP healthcheck in the compose file; check the path';
  const reportsRelease = rawEnvironmentUses(s, stack.versionVariable);
  if (objectHealth && !reportsRelease) {
    lines.push('    health:', `      url: ${url}   ${where}`, `      version: ignore                # it is not given \${${stack.versionVariable}}, so it cannot report the release: the containers' images are checked instead`);
  } else {
    lines.push(`    health: ${url}   ${where}`);
    lines.push(
      reportsRelease
        ? `    # version: the health answer's "version" must be the release (it is given \${${stack.versionVariable}}).`
        : `    # version: the health answer's "version" must be the release; if it reports a fixed version, write health: { url: ..., version: ignore }.`,
    );
  }
  lines.push('    # metrics: http://127.0.0.1:{port}/metrics   # uncomment if it serves Prometheus metrics');
  return lines.join('\n');
}

/** Whether the service is handed the version variable (so it can report the release). */
function rawEnvironmentUses(s: ImportedService, variable: string): boolean {
  return s.environmentVariables.includes(variable);
}

function targetLines(stack: ImportedStack, source: ComposeImportSource, dependencies: ImportedService[]): string[] {
  return [
    '      type: compose',
    `      files: ${list(source.files)}   # relative to the release checkout`,
    `      versionVariable: ${stack.versionVariable}${stack.versionVariableFound ? '            # the variable the images\' tags use' : '            # DEFAULT: no image tag uses a variable; tag images with ${TAG}'}`,
    `      images: { tag: ${JSON.stringify(stack.tagTemplate)} }     # ${stack.versionVariable} for a release: {version} (git tag), {sha} or {sha7} (commit)`,
    ...(stack.profiles.length ? [`      profiles: ${list(stack.profiles)}`] : []),
    ...(dependencies.length ? [`      dependencies: ${list(dependencies.map((d) => d.name))}   # infrastructure, recognised by image: not pinned to the release`] : []),
  ];
}
