import { z } from 'zod';
import { argv, duration, envVars, port } from './primitives.js';

export const serviceSpec = z.strictObject({
  command: argv.optional().describe('The program and its arguments, run from the release checkout (process target; compose runs what the compose file says).'),
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
export const serviceOverride = z.strictObject({
  command: argv.optional().describe('Replaces the service\'s command in this environment.'),
  cwd: z.string().optional().describe('Replaces the service\'s working directory in this environment.'),
  port: port.optional().describe('Replaces the service\'s port in this environment.'),
  health: z.string().optional().describe('Replaces the service\'s health URL in this environment.'),
  metrics: z.string().optional().describe('Replaces the service\'s metrics URL in this environment.'),
  env: envVars.optional().describe('Added to (and overriding) the service\'s variables in this environment.'),
  passEnv: z.array(z.string()).optional().describe('Added to the service\'s passEnv in this environment.'),
});

export const healthPolicy = z.strictObject({
  timeout: duration.default(30_000).describe('How long to wait for every service to be healthy.'),
  interval: duration.default(1_000).describe('How often to poll each health URL.'),
  requestTimeout: duration.default(2_000).describe('Timeout of one health request.'),
});

