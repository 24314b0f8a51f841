// The ssh control masters of one shipgate command: one connection per host, reused by every
// remote command, closed by the command's OpenConnections when it ends (`ssh -O exit`).

import { chmodSync, lstatSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { failed } from '../../../core/errors.js';
import type { OpenConnections } from '../../runner/connections.js';
import type { Runner } from '../../runner/runner.js';
import { controlSocketName, sshCloseArgv, type Multiplexing, type SshEndpoint } from './commands.js';

export interface MultiplexOptions {
  /** Closes the masters when the command ends. */
  connections: OpenConnections;
  /** Where the sockets live (`controlDirectory`): made 0700, this user's only. */
  dir: string;
  /** How long an idle master outlives its last command (a command killed before closing it). Default 60 s. */
  persistSeconds?: number;
}

export class ControlMasters {
  private dirReady = false;

  constructor(
    private readonly o: MultiplexOptions,
    private readonly runner: Runner,
  ) {}

  /** The multiplexing options for a host's ssh argv; registers its master to be closed. */
  for(h: SshEndpoint): Multiplexing {
    if (!this.dirReady) {
      privateDirectory(this.o.dir);
      this.dirReady = true;
    }
    const controlPath = path.join(this.o.dir, controlSocketName(h));
    this.o.connections.keep(controlPath, async () => {
      await this.runner.run(sshCloseArgv(h, controlPath), { timeoutMs: 10_000 });
    });
    return { controlPath, persistSeconds: this.o.persistSeconds ?? 60 };
  }
}

/**
 * Makes `dir` a directory only this user can enter (0700): whoever can reach a control socket
 * runs commands on the host as the deploy user, without a key.
 */
export function privateDirectory(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = lstatSync(dir);
  const uid = process.getuid?.();
  if (!st.isDirectory() || (uid !== undefined && st.uid !== uid)) {
    throw failed(`${dir} is not a directory of this user's; shipgate keeps its ssh control sockets there`, { hint: `Remove it (it holds only sockets), or set stateDir to a directory of your own.` });
  }
  if ((st.mode & 0o777) !== 0o700) chmodSync(dir, 0o700);
}
