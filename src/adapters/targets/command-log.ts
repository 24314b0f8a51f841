import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';

/**
 * Appends one JSON line (a command run, or a note) to a target's command log: `.shipgate/<target>/<env>.commands.log`.
 * The log is for people reading what happened; a deploy never fails over it.
 */
export function appendCommandLog(file: string, at: Date, entry: Record<string, unknown>): void {
  try {
    mkdirSync(path.dirname(file), { recursive: true });
    appendFileSync(file, `${JSON.stringify({ at: at.toISOString(), ...entry })}\n`);
  } catch {
    /* the log is for people; never fail a deploy over it */
  }
}
