import { spawn } from 'node:child_process';
import type { RunOptions, RunResult, Runner } from './runner.js';

export type OutputStream = 'stdout' | 'stderr';

/** RunOptions plus a callback for each output line as it arrives. Runners that cannot stream ignore it. */
export interface StreamRunOptions extends RunOptions {
  onLine?: (line: string, stream: OutputStream) => void;
}

/** Exit code given to a command killed at its timeout (as coreutils `timeout` does). */
export const TIMED_OUT = 124;

/**
 * Like `localRunner` (argv, never a shell; stdout and stderr captured), but hands every line
 * to `onLine` while the command runs, so a 10-minute remote build shows progress as it goes.
 * stdin is /dev/null: nothing a remote command reads can come from shipgate. A command still
 * running at `timeoutMs` gets SIGTERM, then SIGKILL 5 s later, and exits with 124.
 */
export const streamingRunner: Runner = {
  run(argv, options: StreamRunOptions = {}) {
    return new Promise<RunResult>((resolve) => {
      let stdout = '';
      let stderr = '';
      const partial: Record<OutputStream, string> = { stdout: '', stderr: '' };
      const emit = (stream: OutputStream, chunk: string) => {
        if (stream === 'stdout') stdout += chunk;
        else stderr += chunk;
        if (!options.onLine) return;
        const text = partial[stream] + chunk;
        const lines = text.split('\n');
        partial[stream] = lines.pop() ?? '';
        for (const line of lines) options.onLine(line.replace(/\r$/, ''), stream);
      };
      const child = spawn(argv[0], argv.slice(1), { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout.setEncoding('utf8').on('data', (d: string) => emit('stdout', d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => emit('stderr', d));
      let timedOut = false;
      let killTimer: NodeJS.Timeout | undefined;
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill('SIGTERM');
        killTimer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      }, options.timeoutMs ?? 120_000);
      let settled = false;
      const finish = (exitCode: number, extra = '') => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (killTimer) clearTimeout(killTimer);
        for (const stream of ['stdout', 'stderr'] as const) {
          if (partial[stream] && options.onLine) options.onLine(partial[stream], stream);
          partial[stream] = '';
        }
        resolve({ argv, exitCode, stdout, stderr: stderr + extra });
      };
      child.on('error', (err) => finish(127, err.message));
      child.on('close', (code, signal) => {
        if (timedOut) finish(TIMED_OUT, `\n${argv[0]} timed out after ${Math.round((options.timeoutMs ?? 120_000) / 1000)}s`);
        else finish(code ?? 128 + (signal === 'SIGKILL' ? 9 : 15));
      });
    });
  },
};
