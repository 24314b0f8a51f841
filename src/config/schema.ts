import { z } from 'zod';
import { CHANGE_TYPES } from './change-types.js';
import { analysis, check, monitorPolicy, soakPolicy } from './schema/analysis.js';
import { databaseSpec, windowPolicy } from './schema/database.js';
import { argv, duration, envVars, nameKey, secretRef } from './schema/primitives.js';
import { healthPolicy, serviceOverride, serviceSpec } from './schema/service.js';
import { composeTarget, sshTarget, swarmTarget, target } from './schema/target.js';
import { brokerSpec, tradingSpec } from './schema/trading.js';
import { ciSpec } from './schema/ci.js';

const environment = z.strictObject({
  target: target.default({ type: 'process' }),
  services: z.record(nameKey('service'), serviceOverride).default({}).describe('Per-environment overrides of service settings.'),
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
  z.strictObject({
    type: z.literal('grafana'),
    urlEnv: secretRef.describe("Variable holding Grafana's base URL (annotations go to <url>/api/annotations)."),
    tokenEnv: secretRef.describe('Variable holding a Grafana service-account token (Editor role on annotations).'),
    dashboardUid: z.string().min(1).optional().describe('Annotate this dashboard only; without it the annotation is organization-wide.'),
    tags: z.array(z.string().min(1)).optional().describe('Extra tags on every annotation.'),
    events: z.array(z.string()).optional(),
  }),
]);

const preflightSpec = z.strictObject({
  commands: z.array(z.strictObject({ name: z.string().min(1), command: argv, cwd: z.string().default('.') })).default([]).describe('e.g. tests and lint: { name: tests, command: [make, test] }'),
  adr: z.strictObject({ paths: z.array(z.string()).min(1), dir: z.string().default('docs/ADRs') }).optional().describe('Changes under these globs need a new file in dir.'),
  rollbackPlan: z.string().default('docs/rollback/{version}.md').describe('File in the release that documents its rollback plan.'),
  github: z.strictObject({ repo: z.string().regex(/^[\w.-]+\/[\w.-]+$/, 'expected owner/name'), tokenEnv: secretRef.default('GITHUB_TOKEN'), apiUrl: z.string().url().default('https://api.github.com') }).optional(),
  attestable: z.array(z.string()).default(['code-reviewed', 'migrations-tested', 'stakeholders-notified', 'rollback-plan']).describe('Items a person may attest with --attest ITEM --by NAME.'),
});

export { CHANGE_TYPES };
const changeType = z.enum(CHANGE_TYPES);

export const configSchema = z
  .strictObject({
    version: z.literal(1).describe('Schema version of this file.'),
    project: z.string().default('shipgate').describe('Name of the stack.'),
    repository: z.string().default('.').describe('Git repository the releases come from, relative to this file.'),
    stateDir: z.string().default('.shipgate').describe('Where shipgate keeps its state, relative to this file.'),
    services: z
      .record(nameKey('service'), serviceSpec)
      .refine((s) => Object.keys(s).length > 0, {
        message: 'declare at least one service',
        params: { hint: 'Add a service with at least a `command`, e.g. `api: { command: [node, api/main.mjs], port: 8001 }`.' },
      }),
    approvals: z
      .strictObject({
        expiry: duration.default(3_600_000).describe('How long an approval stays valid.'),
        standard: z.number().int().min(1).default(1),
        emergency: z.number().int().min(1).default(2),
        identity: z
          .enum(['signature', 'trust-local'])
          .default('signature')
          .describe('signature: an approval is an SSH signature checked against allowedSigners. trust-local: `approve --by NAME` is believed (a demo or a single-operator setup; proves nothing).'),
        allowedSigners: z.string().min(1).optional().describe('The allowed-signers file (the format git uses: "PRINCIPAL [namespaces=\"shipgate-approval\"] KEYTYPE KEY" per line), relative to this file. An approver is the principal their key names.'),
      })
      .default({ expiry: 3_600_000, standard: 1, emergency: 2, identity: 'signature' }),
    notifications: z.array(notifier).default([]),
    controller: z
      .strictObject({
        lease: duration
          .refine((ms) => ms >= 1000, { message: 'the controller lease must be at least 1s', params: { hint: 'e.g. lease: 15s; the leader renews it every third of it, and a standby takes over within about 1.25 × lease of the leader going silent.' } })
          .default(15_000)
          .describe('`shipgate serve` leader lease: renewed every third of it; a standby takes over once it has passed (within 2 × lease of the leader dying).'),
        readingsKeep: duration
          .refine((ms) => ms >= 3_600_000, { message: 'readings must be kept at least 1h', params: { hint: 'e.g. readingsKeep: 30d; a soak or monitor still running needs its readings for the control room charts.' } })
          .default(30 * 86_400_000)
          .describe('How long the control room keeps each soak and monitor reading (its charts); older ones are deleted by the leading controller once an hour. Verdicts, incidents and the audit log are kept.'),
      })
      .default({ lease: 15_000, readingsKeep: 30 * 86_400_000 })
      .describe('Several `shipgate serve` on one store: one leads, the others stand by.'),
    preflight: preflightSpec.optional(),
    ci: ciSpec.optional().describe('CI triage: project failure causes and the local CI steps.'),
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
      .record(nameKey('environment'), environment)
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
      // `command` is what the process target runs (compose runs what its files say): required
      // as soon as one environment runs processes; without a target, an environment does.
      const runsProcesses = Object.values(environments).some((e) => !isPlainObject(e) || !isPlainObject(e.target) || e.target.type === 'process');
      // Keys, not Object.entries: a 130 000-service map is a hash table, where entries is 4x slower.
      for (const name of runsProcesses ? declared : []) {
        const svc = services[name];
        if (isPlainObject(svc) && svc.command === undefined) {
          ctx.addIssue({ code: 'custom', path: ['services', name, 'command'], message: 'missing required field "command"', params: { hint: 'Add `command: [program, args…]`: the process target runs it (a compose target runs what the compose file says).' } });
        }
      }
      for (const [envName, env] of Object.entries(environments)) {
        const overrides = isPlainObject(env) && isPlainObject(env.services) ? env.services : {};
        for (const name of Object.keys(overrides)) {
          if (!Object.hasOwn(services, name)) {
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
export type SwarmTargetSpec = z.output<typeof swarmTarget>;
export type TradingSpec = z.output<typeof tradingSpec>;
export type BrokerSpec = z.output<typeof brokerSpec>;
export type CiSpec = z.output<typeof ciSpec>;

export function configJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
}
