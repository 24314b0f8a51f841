import type { ComposeInvocation } from './commands.js';

/** What every compose command of one release runs with: the invocation, directory, environment and variables. */
export interface CommandContext {
  inv: ComposeInvocation;
  cwd: string | undefined;
  env: Record<string, string>;
  variables: Record<string, string>;
  passEnv: string[];
  /** Shown before the argv in errors and the command log, e.g. `TAG=v1.0.0 `. */
  display: string;
}
