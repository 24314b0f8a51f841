// `shipgate serve --json --http 127.0.0.1:0` as a user runs it, in a workspace: waits for the line
// naming the API's URL, stops by its PID (SIGTERM, then waits for the exit).
import { spawn, type ChildProcess } from 'node:child_process';
import { BIN } from './cli.js';

export interface ServeHttp {
  child: ChildProcess;
  url: string;
  output(): string;
  /** SIGTERM and wait for the exit; resolves to the exit code. */
  stop(): Promise<number | null>;
}

export async function startServeHttp(cwd: string, env: NodeJS.ProcessEnv, args: string[] = []): Promise<ServeHttp> {
  const child = spawn(process.execPath, [BIN, 'serve', '--json', '--http', '127.0.0.1:0', ...args], {
    cwd, env: { ...process.env, SHIPGATE_ACTOR: 'tester', NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /\{"kind":"api","url":"([^"]+)"\}/.exec(out);
      if (m) resolve(m[1]!);
    });
    void exited.then((code) => reject(new Error(`serve exited ${code} before listening:\n${out}`)));
  });
  return {
    child,
    url,
    output: () => out,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}
