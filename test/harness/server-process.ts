import { spawn, type ChildProcess } from 'node:child_process';

export interface ServerProcess {
  child: ChildProcess;
  /** Resolves when the process exits (or could not be spawned). */
  exit: Promise<void>;
  readonly exited: boolean;
  /** The last 20 kB of its stdout and stderr, for error messages. */
  readonly log: string;
}

/** Starts a test server as a child process, keeping the tail of its output and noticing its exit. */
export function spawnServer(file: string, args: string[], cwd: string): ServerProcess {
  const child = spawn(file, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  let exited = false;
  const collect = (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-20_000);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exit = new Promise<void>((resolve) => {
    child.once('exit', () => {
      exited = true;
      resolve();
    });
    child.once('error', (err) => {
      collect(Buffer.from(`spawn failed: ${err.message}\n`));
      exited = true;
      resolve();
    });
  });
  return {
    child,
    exit,
    get exited() {
      return exited;
    },
    get log() {
      return log;
    },
  };
}
