import { z } from 'zod';
import { argv, duration, envVars, port } from './primitives.js';

const healthContract = z.strictObject({
  url: z.string().min(1).describe('Health URL; "{port}" is replaced by the port.'),
  status: z
    .strictObject({
      field: z.string().min(1).describe('JSON field (a.b for nested) that says whether the service is healthy.'),
      healthy: z
        .array(z.union([z.string(), z.number(), z.boolean()]))
        .min(1)
        .describe('Values of that field that mean healthy, e.g. [ok] or [true]; any other value, or none, is unhealthy. true/false and numbers match JSON booleans and numbers (and their text, "true").'),
    })
    .optional()
    .describe('A 200 whose field says otherwise (e.g. "degraded") is unhealthy.'),
  version: z
    .union([z.literal('ignore'), z.strictObject({ field: z.string().min(1).describe('JSON field (a.b for nested) reporting the release.') })])
    .optional()
    .describe('Where the service reports its release, or "ignore" when it reports none (verification then says the version was not checked). Default: the "version" field, when present.'),
});

/** A plain URL string, or the full contract. */
export const health = z.union([z.string(), healthContract]);
/** In an environment: a string replaces the URL only; an object replaces the fields it gives. */
const healthOverride = z.union([z.string(), healthContract.partial()]);

export const serviceSpec = z.strictObject({
  command: argv.optional().describe('The program and its arguments, run from the release checkout; "{port}" is replaced by the port (process target; compose runs what the compose file says).'),
  cwd: z.string().default('.').describe('Working directory, relative to the release checkout.'),
  port: port.optional().describe('Port the service listens on; passed to it as PORT.'),
  health: health.optional().describe('Health URL ("{port}" is replaced by the port), or { url, status, version }: the health contract.'),
  metrics: z.string().optional().describe('Prometheus metrics URL; "{port}" is replaced by the port.'),
  env: envVars.default({}).describe('Environment variables for the service (not secrets).'),
  passEnv: z.array(z.string()).default([]).describe('Names of variables passed through from shipgate\'s own environment (use for secrets).'),
});

// Every field optional and WITHOUT defaults: `serviceSpec.partial()` would keep the defaults
// (cwd ".", env {}, passEnv []) and so silently replace the base service's cwd in every
// environment that overrides anything else, e.g. only its port.
export const serviceOverride = z.strictObject({
  command: argv.optional().describe('Replaces the service\'s command in this environment.'),
  cwd: z.string().optional().describe('Replaces the service\'s working directory in this environment.'),
  port: port.optional().describe('Replaces the service\'s port in this environment.'),
  health: healthOverride.optional().describe('Replaces the service\'s health URL (a string) or the fields of its health contract given here (an object) in this environment.'),
  metrics: z.string().optional().describe('Replaces the service\'s metrics URL in this environment.'),
  env: envVars.optional().describe('Added to (and overriding) the service\'s variables in this environment.'),
  passEnv: z.array(z.string()).optional().describe('Added to the service\'s passEnv in this environment.'),
});

export const healthPolicy = z.strictObject({
  timeout: duration.default(30_000).describe('How long to wait for every service to be healthy.'),
  interval: duration.default(1_000).describe('How often to poll each health URL.'),
  requestTimeout: duration.default(2_000).describe('Timeout of one health request.'),
});

