import { z } from 'zod';
import { parseDuration } from '../../core/duration.js';
import { isReservedName, NAME } from '../names.js';

/** Building blocks shared by every part of the schema. */
export { isReservedName, NAME, nameProblem } from '../names.js';

/** A record key that is a valid name: the pattern, and no prototype property. */
export const nameKey = (kind: 'service' | 'environment') =>
  z
    .string()
    .regex(NAME, `${kind} names are lower-case letters, digits, "_" and "-"`)
    .refine((n) => !isReservedName(n), { message: `${kind} names cannot be a built-in JavaScript property name such as "constructor"`, params: { hint: `Rename the ${kind}, e.g. add a prefix.` } });

export const duration = z
  .union([z.string(), z.number()])
  .refine((v) => parseDuration(v) !== undefined, {
    message: 'expected a duration such as "30s", "5m", "24h" or a number of seconds',
    params: { hint: 'Write a number with a unit: ms, s, m, h or d (e.g. 30s, 250ms, 5m); a bare number means seconds.' },
  })
  .transform((v) => parseDuration(v)!);

export const argv = z
  .array(z.string().min(1))
  .min(1, 'expected a command as a list of arguments, e.g. ["node", "main.mjs"]');

export const envVars = z.record(z.string(), z.string());

export const port = z.number().int().min(1).max(65535);

export const ratio = z
  .union([z.number(), z.string().regex(/^\d+(\.\d+)?%$/, 'expected a ratio such as 0.01 or "1%"')])
  .transform((v) => (typeof v === 'number' ? v : Number(v.slice(0, -1)) / 100))
  .refine((v) => v >= 0 && v <= 1, 'a ratio is between 0 and 1 (0% and 100%)');

export const matcherText = z.string().default('').describe('PromQL-style label matchers, e.g. code=~"5..",service="execution_gateway"');

export const secretRef = z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'expected the NAME of an environment variable (secrets never go in this file)');

