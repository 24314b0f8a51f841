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

const serviceOverride = serviceSpec.partial();

const processTarget = z.strictObject({
  type: z.literal('process'),
});

const target = z.discriminatedUnion('type', [processTarget]);

const healthPolicy = z.strictObject({
  timeout: duration.default(30_000).describe('How long to wait for every service to be healthy.'),
  interval: duration.default(1_000).describe('How often to poll each health URL.'),
  requestTimeout: duration.default(2_000).describe('Timeout of one health request.'),
});

const environment = z.strictObject({
  target: target.default({ type: 'process' }),
  services: z.record(z.string(), serviceOverride).default({}).describe('Per-environment overrides of service settings.'),
  env: envVars.default({}).describe('Environment variables for every service in this environment.'),
  health: healthPolicy.default({ timeout: 30_000, interval: 1_000, requestTimeout: 2_000 }),
});

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

export function configJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
}
