import pc from 'picocolors';
import { ExitCode, ShipgateError } from '../core/errors.js';

/**
 * A reader that goes away (`shipgate deploy … | head -1`) must not stop the operation half-way:
 * what shipgate does is recorded in the store and the audit log, so output is only a view of it.
 * Write errors on stdout and stderr (EPIPE, a closed terminal) are therefore ignored, and the
 * command runs on to its recorded outcome and exit code.
 */
export function ignoreOutputWriteErrors(): void {
  for (const stream of [process.stdout, process.stderr]) {
    if (stream.listenerCount('error') === 0) stream.on('error', () => undefined);
  }
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function line(text = ''): void {
  process.stdout.write(`${text}\n`);
}

/** One paragraph: what went wrong, where, what to do. Never a stack trace (SHIPGATE_DEBUG=1 shows it). */
export function reportError(err: unknown, json: boolean): number {
  const known = err instanceof ShipgateError;
  const code = known ? err.exitCode : ExitCode.failed;
  const message = err instanceof Error ? err.message : String(err);
  if (json) {
    printJson({ ok: false, error: { message, exitCode: code, where: known ? err.where : undefined, hint: known ? err.hint : undefined, ...(known ? err.data : {}) } });
  } else {
    const where = known && err.where ? ` (at ${err.where})` : '';
    const hint = known && err.hint ? `\n  ${err.hint}` : '';
    process.stderr.write(`${pc.red('error:')} ${message}${where}.${hint}\n`);
  }
  if (process.env.SHIPGATE_DEBUG && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
  return code;
}

export function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => stripAnsi(r[i] ?? '').length))) ?? [];
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell + ' '.repeat(widths[i]! - stripAnsi(cell).length))).join('  ')).join('\n');
}

const stripAnsi = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, '');
