import { spawn } from 'node:child_process';
import type { Argv } from '../runner/runner.js';

/**
 * Runs one local CI step with its output shown live and also handed to `onOutput` (for triage).
 * Unlike the buffering runner, a step may print for many minutes; nothing is kept here.
 */
export function runLiveStep(argv: Argv, options: { cwd: string; env: NodeJS.ProcessEnv; onOutput: (chunk: Buffer) => void; echo: NodeJS.WritableStream }): Promise<{ exitCode: number; signal: string | null }> {
  return new Promise((resolve) => {
    const child = spawn(argv[0], argv.slice(1), { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const pass = (chunk: Buffer) => {
      options.echo.write(chunk);
      options.onOutput(chunk);
    };
    child.stdout.on('data', pass);
    child.stderr.on('data', pass);
    child.on('error', (err) => {
      pass(Buffer.from(`${argv[0]}: ${err.message}\n`));
      resolve({ exitCode: 127, signal: null });
    });
    child.on('close', (code, signal) => resolve({ exitCode: code ?? (signal ? 128 + 9 : 1), signal }));
  });
}
