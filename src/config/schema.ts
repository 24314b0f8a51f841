import { z } from 'zod';
import { parseDuration } from '../core/duration.js';

const NAME = /^[a-z][a-z0-9_-]{0,62}$/;

const duration = z
  .union([z.string(), z.number()])
  .refine((v) => parseDuration(v) !== undefined, {
    message: 'expected a duration such as "30s", "5m", "24h" or a number of seconds',
    params: { hint: 'Write a number with a unit: ms, s, m, h or d (e.g. 30s, 250ms, 5m); a bare number means seconds.' },
  })
  .transform((v) => parseDuration(v)!);

const argv = z
  .array(z.string().min(1))
  .min(1, 'expected a command as a list of arguments, e.g. ["node", "main.mjs"]');

const envVars = z.record(z.string(), z.string());

const port = z.number().int().min(1).max(65535);

const serviceSpec = z.strictObject({
  command: argv.describe('The program and its arguments, run from the release checkout.'),
  cwd: z.string().default('.').describe('Working directory, relative to the release checkout.'),
  port: port.optional().describe('Port the service listens on; passed to it as PORT.'),
  health: z.string().optional().describe('Health URL; "{port}" is replaced by the port.'),
  metrics: z.string().optional().describe('Prometheus metrics URL; "{port}" is replaced by the port.'),
  env: envVars.default({}).describe('Environment variables for the service (not secrets).'),
  passEnv: z.array(z.string()).default([]).describe('Names of variables passed through from shipgate\'s own environment (use for secrets).'),
});

// Every field optional and WITHOUT defaults: `serviceSpec.partial()` would keep the defaults
// (cwd ".", env {}, passEnv []) and so silently replace the base service's cwd in every
// environment that overrides anything else, e.g. only its port.
const serviceOverride = z.strictObject({
  command: argv.optional().describe('Replaces the service\'s command in this environment.'),
  cwd: z.string().optional().describe('Replaces the service\'s working directory in this environment.'),
  port: port.optional().describe('Replaces the service\'s port in this environment.'),
  health: z.string().optional().describe('Replaces the service\'s health URL in this environment.'),
  metrics: z.string().optional().describe('Replaces the service\'s metrics URL in this environment.'),
  env: envVars.optional().describe('Added to (and overriding) the service\'s variables in this environment.'),
  passEnv: z.array(z.string()).optional().describe('Added to the service\'s passEnv in this environment.'),
});

const processTarget = z.strictObject({
  type: z.literal('process'),
});

const composeFields = {
  files: z.array(z.string().min(1)).min(1).default(['docker-compose.yml']).describe('Compose files, relative to the release checkout (seed: docker-compose.prod.yml).'),
  project: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'compose project names are lower-case letters, digits, "_" and "-"').optional().describe('Compose project name (default: <project>_<env>).'),
  cli: z.enum(['auto', 'docker-compose', 'docker compose']).default('auto').describe('docker-compose (v1, as in the seeds) or docker compose (v2); auto detects.'),
  versionVariable: z.string().regex(/^[A-Z_][A-Z0-9_]*$/).default('TAG').describe('Variable the compose file interpolates with the release version, e.g. image: trading/gateway:${TAG}.'),
  build: z.boolean().default(true).describe('Build images from the release checkout (docker-compose build).'),
  pull: z.boolean().default(false).describe('Pull images from a registry instead of building.'),
  keepReleases: z.number().int().min(1).default(5).describe('Images of this many releases are kept for rollback.'),
  dockerHost: z.string().optional().describe('DOCKER_HOST for the engine, e.g. unix:///run/docker.sock.'),
};

const composeTarget = z.strictObject({ type: z.literal('compose'), ...composeFields });

const sshHost = z.strictObject({
  host: z.string().min(1),
  port: port.default(22),
  user: z.string().min(1).default('root'),
  keyFile: z.string().min(1).describe('Private key file (never the key itself).'),
});

const sshTarget = z.strictObject({
  type: z.literal('ssh'),
  ...composeFields,
  hosts: z.array(sshHost).min(1).describe('Hosts, deployed one after another (parallelism) and returned to the previous release if one fails.'),
  dir: z.string().min(1).describe('Checkout of the stack on each host, e.g. /opt/trading_platform.'),
  remote: z.string().default('origin').describe('Git remote fetched on each host.'),
  parallelism: z.number().int().min(1).default(1),
});

const target = z.discriminatedUnion('type', [processTarget, composeTarget, sshTarget]);

const healthPolicy = z.strictObject({
  timeout: duration.default(30_000).describe('How long to wait for every service to be healthy.'),
  interval: duration.default(1_000).describe('How often to poll each health URL.'),
  requestTimeout: duration.default(2_000).describe('Timeout of one health request.'),
});

const ratio = z
  .union([z.number(), z.string().regex(/^\d+(\.\d+)?%$/, 'expected a ratio such as 0.01 or "1%"')])
  .transform((v) => (typeof v === 'number' ? v : Number(v.slice(0, -1)) / 100))
  .refine((v) => v >= 0 && v <= 1, 'a ratio is between 0 and 1 (0% and 100%)');

const matcherText = z.string().default('').describe('PromQL-style label matchers, e.g. code=~"5..",service="execution_gateway"');

const errorRateCheck = z.strictObject({
  name: z.string().min(1),
  type: z.literal('error-rate'),
  metric: z.string().default('http_requests_total').describe('Counter of requests.'),
  errors: z.string().default('code=~"5.."').describe('Matchers selecting the failed requests.'),
  select: matcherText,
  target: ratio.default(0.01).describe('Healthy error rate (seed: < 1%). The soak fails if the rate over the soak exceeds it.'),
  limit: ratio.default(0.05).describe('Unacceptable error rate (seed: rollback above 5%); the sequential test decides between target and limit.'),
});

const latencyCheck = z.strictObject({
  name: z.string().min(1),
  type: z.literal('latency'),
  metric: z.string().default('http_request_duration_seconds').describe('Histogram of request durations in seconds.'),
  select: matcherText,
  quantile: z.number().gt(0).lt(1).default(0.95),
  max: duration.optional().describe('Absolute bound on the quantile (seed: p95 < 500ms).'),
  maxIncrease: ratio.default(0.1).describe('Gate: quantile within this much of the baseline (seed: 10%).'),
  rollbackIncrease: ratio.default(0.5).describe('Trigger: latency this much over the baseline rolls back (seed: 50%).'),
});

const expectation = {
  equals: z.union([z.string(), z.number(), z.boolean()]).optional(),
  max: z.number().optional(),
  min: z.number().optional(),
  consecutive: z.number().int().min(1).default(1).describe('Failed readings in a row before the check fails.'),
};

const gaugeCheck = z.strictObject({ name: z.string().min(1), type: z.literal('gauge'), metric: z.string(), select: matcherText, ...expectation });
const httpJsonCheck = z.strictObject({ name: z.string().min(1), type: z.literal('http-json'), url: z.string().url(), path: z.string().describe('Dot path into the JSON answer, e.g. status or breaker.state'), ...expectation });
const redisCheck = z.strictObject({
  name: z.string().min(1),
  type: z.literal('redis'),
  url: z.string().optional().describe('redis://host:port; default SHIPGATE_REDIS_URL'),
  key: z.string().min(1),
  ...expectation,
});
const promqlCheck = z.strictObject({ name: z.string().min(1), type: z.literal('promql'), query: z.string().min(1), ...expectation });

const check = z.discriminatedUnion('type', [errorRateCheck, latencyCheck, gaugeCheck, httpJsonCheck, redisCheck, promqlCheck]);

const analysis = z.strictObject({
  source: z.enum(['scrape', 'prometheus']).default('scrape').describe('scrape: each service\'s metrics URL; prometheus: PromQL against prometheusUrl.'),
  prometheusUrl: z.string().url().optional(),
  interval: duration.default(1_000).describe('How often the controller evaluates.'),
  minRequests: z.number().int().min(1).default(20).describe('Requests needed before a rate check may decide.'),
  alpha: z.number().gt(0).lt(0.5).default(1e-9).describe('False-alarm bound per evaluation of the restarting sequential tests (docs/analysis.md: 0.001 rolls back a third of healthy releases within 30 min).'),
  beta: z.number().gt(0).lt(0.5).default(0.01).describe('Miss probability of the sequential tests (power = 1 - beta).'),
  checks: z.array(check).default([]),
});

const soakPolicy = z.strictObject({
  standard: duration.default(24 * 3_600_000).describe('Soak for standard releases (seed: 24h).'),
  extended: duration.default(48 * 3_600_000).refine((v) => v >= 48 * 3_600_000 && v <= 72 * 3_600_000, 'the seed sets extended soaks at 48h to 72h').describe('Major, db-schema, strategy, breaker-logic and reconciliation changes (48h-72h).'),
  short: duration.default(4 * 3_600_000).refine((v) => v >= 4 * 3_600_000 && v <= 8 * 3_600_000, 'the seed sets shortened soaks at 4h to 8h').describe('Hotfix, docs-only, ui-only and config-only changes (4h-8h).'),
  maxInconclusive: ratio.default(0.1).describe('Largest share of the soak that may be inconclusive (no data, no traffic).'),
});

const monitorPolicy = z.strictObject({
  autoRollback: z.boolean().default(true),
  immediate: duration.default(5 * 60_000).describe('Immediate phase: health, services up, error lines in logs.'),
  short: duration.default(30 * 60_000).describe('End of the short phase: gates error rate and latency vs baseline.'),
  medium: duration.default(4 * 3_600_000).describe('End of the medium phase, and of monitoring.'),
  healthGrace: duration.default(30_000).describe('Health may fail this long before it triggers a rollback.'),
});

const secretRef = z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'expected the NAME of an environment variable (secrets never go in this file)');

const databaseSpec = z.strictObject({
  urlEnv: secretRef.describe('Environment variable holding the PostgreSQL URL of this environment.'),
  backupDir: z.string().default('backups').describe('Where pg_dump files go, relative to this file.'),
  migrate: z
    .strictObject({
      status: argv.optional().describe('e.g. ["alembic", "current"]'),
      up: argv.describe('e.g. ["alembic", "upgrade", "head"] or ["make", "db-migrate"]'),
      down: argv.optional().describe('e.g. ["alembic", "downgrade", "-1"]'),
      cwd: z.string().default('.').describe('Working directory inside the release checkout.'),
    })
    .optional(),
  integrityCheck: argv.optional().describe('Run after a database rollback, e.g. ["pytest", "tests/integration/test_db_integrity.py"].'),
  rollback: z.enum(['restore', 'down']).default('restore').describe('How a rollback returns the schema: restore the pre-deploy backup, or run migrate.down.'),
  writesSince: z.string().optional().describe('SQL counting rows written after $1 (the backup time); more than 0 means a restore loses data.'),
  maxBackupAge: duration.default(3_600_000).describe('A restore of an older backup is treated as losing data.'),
});

const windowPolicy = z.strictObject({
  enforce: z.boolean().default(true).describe('Refuse deploys outside the deployment window (seed: market hours).'),
  mondayMorningUntil: z.string().regex(/^\d{2}:\d{2}$/).nullable().default('12:00').describe('On trading Mondays, refuse before this New York time (seed: avoid Monday mornings); null disables.'),
});

const brokerSpec = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('alpaca'),
    mode: z.enum(['paper', 'live']).default('paper'),
    baseUrl: z.string().url().optional().describe('Override of the Alpaca API base URL (tests).'),
    keyIdEnv: secretRef.default('APCA_API_KEY_ID'),
    secretKeyEnv: secretRef.default('APCA_API_SECRET_KEY'),
  }),
  z.strictObject({ type: z.literal('paper'), url: z.string().url().describe('The sample stack\'s paper broker (execution_gateway).') }),
]);

const tradingSpec = z.strictObject({
  redisUrl: z.string().optional().describe('Redis holding cb:state and killswitch:active (no password here; use redisUrlEnv for one).'),
  redisUrlEnv: secretRef.optional().describe('Variable holding the Redis URL.'),
  keyPrefix: z.string().default('').describe('Prefix of the safety keys, so staging and production never share them (e.g. "prod:").'),
  broker: brokerSpec.optional(),
  cancelTimeout: duration.default(30_000).describe('How long the kill switch waits for open orders to be gone.'),
  reconciliation: z
    .strictObject({
      positionsUrl: z.string().url().optional().describe('Platform positions as JSON [{symbol, qty}].'),
      positionsQuery: z.string().optional().describe('SQL returning symbol, qty (against database.urlEnv).'),
      tolerance: z.number().min(0).default(0).describe('Allowed |platform - broker| per symbol.'),
    })
    .optional(),
  breakerReset: z
    .strictObject({
      maxDrawdown: z.number().optional().describe('Drawdown must be back under this (gauge drawdownMetric).'),
      drawdownUrl: z.string().url().optional().describe('Metrics URL with the drawdown gauge.'),
      drawdownMetric: z.string().default('drawdown_ratio'),
      marketDataUrl: z.string().url().optional().describe('Metrics URL with the market-data freshness gauge.'),
      marketDataMetric: z.string().default('market_data_last_update_timestamp_seconds'),
      maxStaleness: duration.default(10_000),
    })
    .default({ drawdownMetric: 'drawdown_ratio', marketDataMetric: 'market_data_last_update_timestamp_seconds', maxStaleness: 10_000 }),
  autoKillSwitch: z.boolean().default(false).describe('Let the production monitor engage the kill switch on a catastrophic trigger.'),
});

const environment = z.strictObject({
  target: target.default({ type: 'process' }),
  services: z.record(z.string(), serviceOverride).default({}).describe('Per-environment overrides of service settings.'),
  env: envVars.default({}).describe('Environment variables for every service in this environment.'),
  health: healthPolicy.default({ timeout: 30_000, interval: 1_000, requestTimeout: 2_000 }),
  analysis: analysis.optional().describe('Metric checks used by soaks and monitors in this environment.'),
  soak: soakPolicy.optional().describe('Soak every release deployed here before it may be promoted.'),
  monitor: monitorPolicy.optional().describe('Watch every release deployed here and roll back on a trigger.'),
  promoteFrom: z.string().optional().describe('Environment whose soaked release `promote` takes.'),
  database: databaseSpec.optional().describe('PostgreSQL of this environment: backups before migrations, restore on rollback.'),
  window: windowPolicy.optional().describe('Deployment window on the NYSE calendar (America/New_York).'),
  onCall: z.array(z.string().min(1)).default([]).describe('On-call engineers; promote needs one (or --on-call NAME).'),
  requiredSecrets: z.array(secretRef).default([]).describe('Variables that must be set before deploying here (checked by preflight).'),
  trading: tradingSpec.optional().describe('Trading safety state (circuit breaker, kill switch) and the broker, for the runbooks.'),
});

const notifier = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('slack'), urlEnv: secretRef.describe('Variable holding the Slack incoming-webhook URL.'), events: z.array(z.string()).optional() }),
  z.strictObject({ type: z.literal('webhook'), urlEnv: secretRef.describe('Variable holding the webhook URL.'), events: z.array(z.string()).optional() }),
]);

const preflightSpec = z.strictObject({
  commands: z.array(z.strictObject({ name: z.string().min(1), command: argv, cwd: z.string().default('.') })).default([]).describe('e.g. tests and lint: { name: tests, command: [make, test] }'),
  adr: z.strictObject({ paths: z.array(z.string()).min(1), dir: z.string().default('docs/ADRs') }).optional().describe('Changes under these globs need a new file in dir.'),
  rollbackPlan: z.string().default('docs/rollback/{version}.md').describe('File in the release that documents its rollback plan.'),
  github: z.strictObject({ repo: z.string().regex(/^[\w.-]+\/[\w.-]+$/, 'expected owner/name'), tokenEnv: secretRef.default('GITHUB_TOKEN'), apiUrl: z.string().url().default('https://api.github.com') }).optional(),
  attestable: z.array(z.string()).default(['code-reviewed', 'migrations-tested', 'stakeholders-notified', 'rollback-plan']).describe('Items a person may attest with --attest ITEM --by NAME.'),
});

export const CHANGE_TYPES = ['db-schema', 'strategy', 'breaker-logic', 'reconciliation', 'major', 'docs-only', 'ui-only', 'config-only', 'hotfix'] as const;
const changeType = z.enum(CHANGE_TYPES);

export const configSchema = z
  .strictObject({
    version: z.literal(1).describe('Schema version of this file.'),
    project: z.string().default('shipgate').describe('Name of the stack.'),
    repository: z.string().default('.').describe('Git repository the releases come from, relative to this file.'),
    stateDir: z.string().default('.shipgate').describe('Where shipgate keeps its state, relative to this file.'),
    services: z
      .record(z.string().regex(NAME, 'service names are lower-case letters, digits, "_" and "-"'), serviceSpec)
      .refine((s) => Object.keys(s).length > 0, {
        message: 'declare at least one service',
        params: { hint: 'Add a service with at least a `command`, e.g. `api: { command: [node, api/main.mjs], port: 8001 }`.' },
      }),
    approvals: z
      .strictObject({
        expiry: duration.default(3_600_000).describe('How long an approval stays valid.'),
        standard: z.number().int().min(1).default(1),
        emergency: z.number().int().min(1).default(2),
      })
      .default({ expiry: 3_600_000, standard: 1, emergency: 2 }),
    notifications: z.array(notifier).default([]),
    preflight: preflightSpec.optional(),
    calendar: z
      .strictObject({
        closures: z.array(z.string().regex(/^\d{4}-\d{2}-\d{2}$/)).default([]).describe('Ad hoc market closures (YYYY-MM-DD).'),
        freezes: z.array(z.strictObject({ from: z.string(), to: z.string(), reason: z.string() })).default([]).describe('Change freezes: no deploy between from and to (ISO-8601).'),
      })
      .default({ closures: [], freezes: [] }),
    changeTypes: z
      .record(z.string(), changeType)
      .optional()
      .describe('Path globs mapped to change types, e.g. "migrations/**": db-schema. Default rules apply when absent.'),
    environments: z
      .record(z.string().regex(NAME, 'environment names are lower-case letters, digits, "_" and "-"'), environment)
      .refine((e) => Object.keys(e).length > 0, {
        message: 'declare at least one environment',
        params: { hint: 'Add an environment, e.g. `staging: {}` under environments.' },
      }),
  })
  .superRefine(
    (config, ctx) => {
      // Runs even when other fields have problems (see `when`), so `config check` reports this one
      // together with the rest; the value may then be partial, hence the defensive checks.
      const services = isPlainObject(config.services) ? config.services : undefined;
      const environments = isPlainObject(config.environments) ? config.environments : undefined;
      if (!services || !environments) return;
      const declared = Object.keys(services);
      for (const [envName, env] of Object.entries(environments)) {
        const overrides = isPlainObject(env) && isPlainObject(env.services) ? env.services : {};
        for (const name of Object.keys(overrides)) {
          if (!(name in services)) {
            ctx.addIssue({
              code: 'custom',
              path: ['environments', envName, 'services', name],
              message: `unknown service "${name}"; ${declared.length ? `declared services are: ${declared.join(', ')}` : 'no services are declared'}`,
              // Tells the position finder to point at the key, not at its value.
              params: { at: 'key', kind: 'unknown_service' },
            });
          }
        }
      }
    },
    { when: (payload) => isPlainObject(payload.value) },
  );

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export type ShipgateConfig = z.output<typeof configSchema>;
export type ServiceSpec = z.output<typeof serviceSpec>;
export type EnvironmentSpec = z.output<typeof environment>;
export type HealthPolicy = z.output<typeof healthPolicy>;
export type AnalysisSpec = z.output<typeof analysis>;
export type CheckSpec = z.output<typeof check>;
export type SoakPolicy = z.output<typeof soakPolicy>;
export type MonitorPolicy = z.output<typeof monitorPolicy>;
export type ChangeType = (typeof CHANGE_TYPES)[number];
export type DatabaseSpec = z.output<typeof databaseSpec>;
export type WindowPolicy = z.output<typeof windowPolicy>;
export type NotifierSpec = z.output<typeof notifier>;
export type PreflightSpec = z.output<typeof preflightSpec>;
export type ComposeTargetSpec = z.output<typeof composeTarget>;
export type SshTargetSpec = z.output<typeof sshTarget>;
export type TradingSpec = z.output<typeof tradingSpec>;
export type BrokerSpec = z.output<typeof brokerSpec>;

export function configJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
}
