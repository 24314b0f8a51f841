import { localRunner, type Argv } from '../runner/runner.js';

/**
 * Runs one local CI step with its output shown live and also handed to `onOutput` (for triage).
 * A step may print for many minutes: nothing is kept, and there is no timeout (CI's own job
 * timeout is the user's to set in the step's command).
 */
export async function runLiveStep(argv: Argv, options: { cwd: string; env: NodeJS.ProcessEnv; onOutput: (chunk: Buffer) => void; echo: NodeJS.WritableStream }): Promise<{ exitCode: number }> {
  const res = await localRunner.run(argv, {
    cwd: options.cwd,
    env: options.env,
    timeoutMs: Number.POSITIVE_INFINITY,
    keepOutput: false,
    onChunk: (chunk) => {
      options.echo.write(chunk);
      options.onOutput(chunk);
    },
  });
  // A step that could not start says why, where its output would have been.
  if (res.stderr) {
    const why = Buffer.from(`${argv[0]}: ${res.stderr.trim()}\n`);
    options.echo.write(why);
    options.onOutput(why);
  }
  return { exitCode: res.exitCode };
}
