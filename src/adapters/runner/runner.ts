import { execFile } from 'node:child_process';

/** A command is data: the program and its arguments, never a shell string (DESIGN §3). */
export type Argv = readonly [string, ...string[]];

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
  /** Written to the command's stdin (which is closed after it). */
  input?: string;
}

export interface RunResult {
  argv: Argv;
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface Runner {
  run(argv: Argv, options?: RunOptions): Promise<RunResult>;
}

export const localRunner: Runner = {
  run(argv, options = {}) {
    return new Promise((resolve) => {
      const child = execFile(
        argv[0],
        argv.slice(1),
        { cwd: options.cwd, env: options.env ?? process.env, timeout: options.timeoutMs ?? 120_000, maxBuffer: 64 * 1024 * 1024 },
        (error, stdout, stderr) => {
          const code = error ? (typeof error.code === 'number' ? error.code : 127) : 0;
          resolve({ argv, exitCode: code, stdout: String(stdout), stderr: String(stderr || (error && code === 127 ? error.message : '')) });
        },
      );
      if (options.input !== undefined) {
        // A command that exits without reading its input must not crash shipgate with EPIPE.
        child.stdin?.on('error', () => undefined);
        child.stdin?.end(options.input);
      }
    });
  },
};

export function describeArgv(argv: Argv): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : JSON.stringify(a))).join(' ');
}
