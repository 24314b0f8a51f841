/** How long work is shown: a task list in a terminal, plain lines otherwise, nothing in --json. */
export interface Progress {
  task<T>(title: string, run: () => Promise<T>): Promise<T>;
  info(message: string): void;
  warn(message: string): void;
}

export const silentProgress: Progress = {
  task: (_title, run) => run(),
  info: () => undefined,
  warn: () => undefined,
};
