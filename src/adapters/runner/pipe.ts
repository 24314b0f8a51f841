import { spawn } from 'node:child_process';
import type { Argv } from './runner.js';

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
 * Both stderr streams are kept (their last 64 KiB); the consumer's stdout is discarded.
 */
export function pipeInto(producerArgv: Argv, consumerArgv: Argv, options: PipeOptions): Promise<PipeResult> {
  const { env, timeoutMs } = options;
  return new Promise((resolve) => {
    const keep = (s: string, chunk: Buffer) => (s + chunk.toString()).slice(-64 * 1024);
    let producerStderr = '';
    let consumerStderr = '';
    const consumer = spawn(consumerArgv[0], consumerArgv.slice(1), { env, stdio: ['pipe', 'ignore', 'pipe'] });
    const producer = spawn(producerArgv[0], producerArgv.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'] });
    producer.stderr.on('data', (c: Buffer) => (producerStderr = keep(producerStderr, c)));
    consumer.stderr.on('data', (c: Buffer) => (consumerStderr = keep(consumerStderr, c)));
    consumer.stdin.on('error', () => undefined); // EPIPE once the consumer has stopped on an error

    let producerCode: number | undefined;
    let consumerCode: number | undefined;
    const timer = setTimeout(() => {
      producerStderr += `\ntimed out after ${Math.round(timeoutMs / 1000)} s`;
      producer.kill('SIGTERM');
      consumer.kill('SIGTERM');
    }, timeoutMs);
    const finish = () => {
      if (producerCode === undefined || consumerCode === undefined) return;
      clearTimeout(timer);
      resolve({ producerCode, producerStderr, consumerCode, consumerStderr });
    };
    const codeOf = (code: number | null) => code ?? 128;

    producer.on('error', (err) => {
      producerStderr += `\n${err.message}`;
      if (producerCode === undefined) producerCode = 127;
      consumer.stdin.end(options.suffix(false));
      finish();
    });
    consumer.on('error', (err) => {
      consumerStderr += `\n${err.message}`;
      producer.kill('SIGTERM');
      if (consumerCode === undefined) consumerCode = 127;
      finish();
    });

    consumer.stdin.write(options.prefix);
    producer.stdout.pipe(consumer.stdin, { end: false });
    // 'close' comes after the producer's stdout has ended, so every chunk is already queued.
    producer.on('close', (code) => {
      producerCode = codeOf(code);
      consumer.stdin.end(options.suffix(producerCode === 0));
      finish();
    });
    consumer.on('close', (code) => {
      consumerCode = codeOf(code);
      if (producerCode === undefined) {
        producer.stdout.unpipe(consumer.stdin);
        producer.stdout.resume();
        producer.kill('SIGTERM');
      }
      finish();
    });
  });
}
