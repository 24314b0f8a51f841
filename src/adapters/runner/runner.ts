import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import type { Readable, Writable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';

/** A command is data: the program and its arguments, never a shell string (DESIGN §3). */
export type Argv = readonly [string, ...string[]];

export type OutputStream = 'stdout' | 'stderr';

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Default 120 s; `Infinity` for none (a local CI step may run for an hour). */
  timeoutMs?: number;
  /** Written to the command's stdin, which is closed after it. Without it stdin is /dev/null. */
  input?: string;
  /** Each output line as it arrives (a 10-minute remote build shows progress as it goes). */
  onLine?: (line: string, stream: OutputStream) => void;
  /** Each raw output chunk as it arrives (live echo, streaming triage). */
  onChunk?: (chunk: Buffer, stream: OutputStream) => void;
  /** Keep stdout and stderr in the result (default). Off for output that can be gigabytes. */
  keepOutput?: boolean;
}

export interface RunResult {
  argv: Argv;
  /** The command's exit code; 124 at its timeout, 127 when it could not start, 128+n on signal n. */
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface Runner {
  run(argv: Argv, options?: RunOptions): Promise<RunResult>;
}

/** Exit code given to a command killed at its timeout (as coreutils `timeout` does). */
export const TIMED_OUT = 124;
export const NOT_STARTED = 127;
const DEFAULT_TIMEOUT_MS = 120_000;
/** A command still running this long after SIGTERM at its timeout gets SIGKILL. */
const KILL_GRACE_MS = 5_000;
/** Each kept stream stops growing here; a runaway command cannot exhaust shipgate's memory. */
const KEEP_LIMIT = 64 * 1024 * 1024;

/** A started command, for callers that wire its streams themselves (a pipe between two commands). */
export interface StartedCommand {
  /** Present when `stdin: 'pipe'` was asked for. */
  stdin: Writable | null;
  /** Present when `stdout: 'pipe'` was asked for: the output is then the caller's, not kept. */
  stdout: Readable | null;
  terminate(): void;
  done: Promise<RunResult>;
}

export interface StartOptions extends RunOptions {
  stdin?: 'pipe';
  stdout?: 'pipe';
}

/**
 * The one place shipgate runs an external command (local tools, git, docker, ssh, pg_dump…):
 * argv without a shell, one timeout policy (SIGTERM, SIGKILL 5 s later, exit 124), one set of
 * exit codes, output kept and/or streamed. Service processes that outlive shipgate are started
 * by the process target instead: they are detached and recorded, not awaited.
 */
export function startCommand(argv: Argv, options: StartOptions = {}): StartedCommand {
  const stdinMode = options.stdin === 'pipe' || options.input !== undefined ? 'pipe' : 'ignore';
  const child = spawn(argv[0], argv.slice(1), { cwd: options.cwd, env: options.env ?? process.env, stdio: [stdinMode, 'pipe', 'pipe'] });
  // A command that exits without reading its input must not crash shipgate with EPIPE.
  child.stdin?.on('error', () => undefined);
  if (options.input !== undefined) child.stdin?.end(options.input);

  const keep = options.keepOutput !== false;
  const kept: Record<OutputStream, { chunks: Buffer[]; bytes: number }> = { stdout: { chunks: [], bytes: 0 }, stderr: { chunks: [], bytes: 0 } };
  const decoders = { stdout: new StringDecoder('utf8'), stderr: new StringDecoder('utf8') };
  const partial: Record<OutputStream, string> = { stdout: '', stderr: '' };
  const take = (stream: OutputStream, chunk: Buffer) => {
    if (keep && kept[stream].bytes < KEEP_LIMIT) {
      kept[stream].chunks.push(chunk);
      kept[stream].bytes += chunk.length;
    }
    options.onChunk?.(chunk, stream);
    if (!options.onLine) return;
    const lines = (partial[stream] + decoders[stream].write(chunk)).split('\n');
    partial[stream] = lines.pop() ?? '';
    for (const line of lines) options.onLine(line.replace(/\r$/, ''), stream);
  };
  if (options.stdout !== 'pipe') child.stdout!.on('data', (c: Buffer) => take('stdout', c));
  child.stderr!.on('data', (c: Buffer) => take('stderr', c));

  let timedOut = false;
  let killTimer: NodeJS.Timeout | undefined;
  const terminate = () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    killTimer ??= setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS);
  };
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const timer = Number.isFinite(timeoutMs) ? setTimeout(() => ((timedOut = true), terminate()), timeoutMs) : undefined;

  const done = new Promise<RunResult>((resolve) => {
    let settled = false;
    const finish = (exitCode: number, extra = '') => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(killTimer);
      for (const stream of ['stdout', 'stderr'] as const) {
        const rest = partial[stream] + decoders[stream].end();
        if (rest && options.onLine) options.onLine(rest.replace(/\r$/, ''), stream);
      }
      const text = (stream: OutputStream) => Buffer.concat(kept[stream].chunks).toString('utf8');
      resolve({ argv, exitCode, stdout: text('stdout'), stderr: text('stderr') + extra });
    };
    child.on('error', (err) => finish(NOT_STARTED, err.message));
    child.on('close', (code, signal) => {
      if (timedOut) finish(TIMED_OUT, `\n${argv[0]} timed out after ${Math.round(timeoutMs / 1000)}s`);
      else finish(code ?? 128 + (signal ? constants.signals[signal] : 9));
    });
  });
  return { stdin: options.stdin === 'pipe' ? child.stdin : null, stdout: options.stdout === 'pipe' ? child.stdout! : null, terminate, done };
}

export const localRunner: Runner = {
  run: (argv, options) => startCommand(argv, options).done,
};

export function describeArgv(argv: Argv): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : JSON.stringify(a))).join(' ');
}
