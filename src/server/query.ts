import { badInput } from '../core/errors.js';

/** A positive whole number from a query parameter or path segment, or a clear 400 naming it. */
export function positiveInt(value: string | undefined, field: string, fallback?: number): number | undefined {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw badInput(`${field} must be a positive whole number, got ${JSON.stringify(value)}`, { where: field, hint: `For example ${field}=20.` });
  return n;
}

/** A non-negative whole number (a sequence number to start after). */
export function sequence(value: string | undefined, field: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw badInput(`${field} must be a sequence number (0 or more), got ${JSON.stringify(value)}`, { where: field, hint: `For example ${field}=120.` });
  return n;
}
