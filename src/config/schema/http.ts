import { z } from 'zod';
import { duration, secretRef } from './primitives.js';

/** A header value: a plain (non-secret) string, or a secret read from an environment variable. */
export const headerValue = z.union([
  z.string(),
  z.strictObject({
    env: secretRef.describe('Variable holding the secret (e.g. PLATFORM_TOKEN); never printed, logged or stored.'),
    prefix: z.string().default('').describe('Put before the value, e.g. "Bearer ".'),
  }),
]);

export const headers = z.record(z.string().regex(/^[A-Za-z0-9-]+$/, 'expected an HTTP header name such as Authorization'), headerValue).describe('HTTP headers; secrets as { env: NAME, prefix: "Bearer " }.');

/**
 * One of the platform's own runbook endpoints (engage its kill switch, cancel all orders…).
 * String values of `body` may use {reason}, {actor}, {env} and {at}.
 */
export const httpAction = z.strictObject({
  method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']).default('POST'),
  url: z.string().url(),
  headers: headers.optional(),
  body: z.record(z.string(), z.unknown()).optional().describe('JSON body; strings may use {reason}, {actor}, {env}, {at}.'),
  expect: z.union([z.number().int().min(100).max(599), z.array(z.number().int().min(100).max(599)).min(1)]).optional().describe('Expected HTTP status(es); default any 2xx.'),
  verify: z
    .strictObject({
      field: z.string().min(1).describe('Dot path into the JSON answer, e.g. status or data.state.'),
      equals: z.union([z.string(), z.number(), z.boolean()]).describe('The value that proves the action took effect.'),
    })
    .optional(),
  timeout: duration.default(10_000),
});
