/** Exit codes promised to users (DESIGN §5). */
export const ExitCode = {
  ok: 0,
  failed: 1,
  badInput: 2,
  refused: 3,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export interface ErrorDetails {
  /** Where the problem is, e.g. `shipgate.yml:12:5` or a field path. */
  where?: string;
  /** What the user should do next. */
  hint?: string;
  /** Structured data for --json output. */
  data?: Record<string, unknown>;
}

/**
 * An error meant for a person: it carries its exit code and a hint, and the CLI prints it as
 * one paragraph instead of a stack trace.
 */
export class ShipgateError extends Error {
  readonly exitCode: ExitCode;
  readonly where: string | undefined;
  readonly hint: string | undefined;
  readonly data: Record<string, unknown> | undefined;

  constructor(exitCode: ExitCode, message: string, details: ErrorDetails = {}) {
    super(message);
    this.name = 'ShipgateError';
    this.exitCode = exitCode;
    this.where = details.where;
    this.hint = details.hint;
    this.data = details.data;
  }
}

export const badInput = (message: string, details?: ErrorDetails) =>
  new ShipgateError(ExitCode.badInput, message, details);
export const refused = (message: string, details?: ErrorDetails) =>
  new ShipgateError(ExitCode.refused, message, details);
export const failed = (message: string, details?: ErrorDetails) =>
  new ShipgateError(ExitCode.failed, message, details);
