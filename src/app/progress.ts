/** How long work is shown: a task list in a terminal, plain lines otherwise, nothing in --json. */
export interface Progress {
  /**
   * Runs `run` under `title`. A task that throws is shown failed; so is one whose result
   * `failedIf` says is a failure (a step that reports `{ ok: false }`, a command that exited
   * non-zero), so nothing that failed is ever shown as ok.
   */
  task<T>(title: string, run: () => Promise<T>, failedIf?: (result: T) => boolean): Promise<T>;
  info(message: string): void;
  warn(message: string): void;
}

export const silentProgress: Progress = {
  task: (_title, run) => run(),
  info: () => undefined,
  warn: () => undefined,
};
