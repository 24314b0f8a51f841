import { startCommand, type Argv } from './runner.js';

export interface PipeOptions {
  env: NodeJS.ProcessEnv;
  timeoutMs: number;
  /** Written to the consumer before the producer's output. */
  prefix: string;
  /** Written after it, once the producer has ended: e.g. "COMMIT;" only when it succeeded. */
  suffix: (producerSucceeded: boolean) => string;
}

export interface PipeResult {
  producerCode: number;
  producerStderr: string;
  consumerCode: number;
  consumerStderr: string;
}

/**
 * `producer | consumer`, without a shell: the consumer gets `prefix`, then the producer's
 * stdout, then `suffix`. A consumer that stops early (psql on an error) ends the producer too.
 * Both stderr streams are kept (their last 64 KiB); the consumer's stdout is discarded. Both
 * run through the one runner: its timeout policy and exit codes.
 */
export async function pipeInto(producerArgv: Argv, consumerArgv: Argv, options: PipeOptions): Promise<PipeResult> {
  const { env, timeoutMs } = options;
  const consumer = startCommand(consumerArgv, { env, timeoutMs, stdin: 'pipe' });
  const producer = startCommand(producerArgv, { env, timeoutMs, stdout: 'pipe' });
  const tail = (s: string) => s.slice(-64 * 1024);
  const stdin = consumer.stdin!;
  const output = producer.stdout!;
  stdin.write(options.prefix);
  output.pipe(stdin, { end: false });
  // `done` settles after the producer's stdout has ended, so every chunk is already queued.
  const producerDone = producer.done.then((res) => {
    stdin.end(options.suffix(res.exitCode === 0));
    return res;
  });
  // A consumer that stops early (psql on an error) ends the producer too.
  const consumerDone = consumer.done.then((res) => {
    output.unpipe(stdin);
    output.resume();
    producer.terminate();
    return res;
  });
  const [p, c] = await Promise.all([producerDone, consumerDone]);
  return { producerCode: p.exitCode, producerStderr: tail(p.stderr), consumerCode: c.exitCode, consumerStderr: tail(c.stderr) };
}
