import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { badInput, failed } from '../../core/errors.js';

export const AUDIT_KEY_VARIABLE = 'SHIPGATE_AUDIT_KEY';
export const AUDIT_KEY_FILE = 'audit.key';
export const AUDIT_CHECKPOINT_FILE = 'audit-checkpoint.json';

/** The newest event of the chain: enough to notice a cut or a rewrite later. */
export interface AuditHead {
  seq: number;
  hash: string;
}

export interface AuditCheckpoint extends AuditHead {
  at: string;
  /** HMAC of seq and hash, so the checkpoint cannot be moved back without the key. */
  mac: string;
}

export type CheckpointRead = { state: 'none' } | { state: 'ok'; checkpoint: AuditCheckpoint } | { state: 'bad'; problem: string };

/**
 * What lets the audit log prove more than a hash chain can: a key kept outside the store (an
 * attacker who can rewrite the table cannot recompute MACs) and the chain head written outside
 * the table after every event (an attacker who deletes the newest events cannot move it back).
 */
export interface AuditSeal {
  /** Creates the key on first use, so a store that never wrote stays keyless. */
  mac(hash: string): string;
  /** undefined: no key to check with. */
  checkMac(hash: string, mac: string): boolean | undefined;
  /** Where the key comes from, for messages: the variable, the file, or nowhere yet. */
  keySource(): 'variable' | 'file' | 'none';
  writeCheckpoint(head: AuditHead, at: string): void;
  readCheckpoint(): CheckpointRead;
  /** Moves the checkpoint aside (starting over); returns where it went. */
  archiveCheckpoint(suffix: string): string | undefined;
  readonly dir: string;
}

const MAC_PREFIX = 'hmac-sha256:';

export function fileAuditSeal(stateDir: string, env: NodeJS.ProcessEnv = process.env): AuditSeal {
  const keyFile = path.join(stateDir, AUDIT_KEY_FILE);
  const checkpointFile = path.join(stateDir, AUDIT_CHECKPOINT_FILE);
  let key: Buffer | undefined;

  const fromVariable = (): Buffer | undefined => {
    const value = env[AUDIT_KEY_VARIABLE];
    if (value === undefined || value === '') return undefined;
    if (value.length < 32) {
      throw badInput(`${AUDIT_KEY_VARIABLE} is too short to be a key (${value.length} characters)`, {
        where: AUDIT_KEY_VARIABLE,
        hint: 'Use at least 32 random characters, e.g. the output of `openssl rand -hex 32`, and the same value on every host that shares the store.',
      });
    }
    return Buffer.from(value, 'utf8');
  };

  const readKeyFile = (): Buffer | undefined => {
    try {
      const text = fs.readFileSync(keyFile, 'utf8').trim();
      if (!/^[0-9a-f]{64}$/.test(text)) throw failed(`the audit key ${keyFile} is damaged`, { hint: `Restore it from a backup, or set ${AUDIT_KEY_VARIABLE}; without it the audit log cannot be verified.` });
      return Buffer.from(text, 'hex');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return undefined;
      if (code) throw failed(`the audit key ${keyFile} cannot be read (${(err as Error).message})`, { hint: `Run shipgate as the user that owns ${stateDir}, or set ${AUDIT_KEY_VARIABLE}; without the key the audit log's MACs cannot be checked.` });
      throw err;
    }
  };

  const existingKey = (): Buffer | undefined => (key ??= fromVariable() ?? readKeyFile());

  const keyForWriting = (): Buffer => {
    const found = existingKey();
    if (found) return found;
    fs.mkdirSync(stateDir, { recursive: true });
    try {
      // 'wx': of two processes creating it at once, one wins and the other reads its key.
      const fd = fs.openSync(keyFile, 'wx', 0o600);
      try {
        fs.writeSync(fd, `${randomBytes(32).toString('hex')}\n`);
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    key = readKeyFile();
    if (!key) throw failed(`could not create the audit key ${keyFile}`);
    return key;
  };

  const hmac = (k: Buffer, text: string) => MAC_PREFIX + createHmac('sha256', k).update(text).digest('hex');
  const same = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
  const checkpointText = (head: AuditHead) => `shipgate-audit-checkpoint\n${head.seq}\n${head.hash}`;

  const readCheckpoint = (): CheckpointRead => {
    let text: string;
    try {
      text = fs.readFileSync(checkpointFile, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { state: 'none' };
      return { state: 'bad', problem: `the audit checkpoint ${checkpointFile} cannot be read: ${(err as Error).message}` };
    }
    try {
      const c = JSON.parse(text) as AuditCheckpoint;
      if (!Number.isInteger(c.seq) || c.seq < 1 || typeof c.hash !== 'string' || typeof c.mac !== 'string') throw new Error('fields missing');
      let k: Buffer | undefined;
      try {
        k = existingKey();
      } catch (err) {
        return { state: 'bad', problem: `the audit checkpoint ${checkpointFile} cannot be checked: ${(err as Error).message}` };
      }
      if (!k) return { state: 'bad', problem: `the audit checkpoint ${checkpointFile} exists but the audit key does not (${keyFile} or ${AUDIT_KEY_VARIABLE})` };
      if (!same(hmac(k, checkpointText(c)), c.mac)) return { state: 'bad', problem: `the audit checkpoint ${checkpointFile} was altered (its MAC does not match)` };
      return { state: 'ok', checkpoint: c };
    } catch {
      return { state: 'bad', problem: `the audit checkpoint ${checkpointFile} is not a valid checkpoint` };
    }
  };

  return {
    dir: stateDir,
    mac: (hash) => hmac(keyForWriting(), hash),
    checkMac(hash, mac) {
      const k = existingKey();
      return k ? same(hmac(k, hash), mac) : undefined;
    },
    keySource() {
      if (fromVariable()) return 'variable';
      return fs.existsSync(keyFile) ? 'file' : 'none';
    },
    writeCheckpoint(head, at) {
      const current = readCheckpoint();
      // Two processes appending at once may finish out of order; never move the head back.
      if (current.state === 'ok' && current.checkpoint.seq >= head.seq) return;
      // A damaged or forged checkpoint stays as evidence: overwriting it with the (possibly cut)
      // current head would hide the cut. `state init` moves it aside.
      if (current.state === 'bad') return;
      const checkpoint: AuditCheckpoint = { ...head, at, mac: hmac(keyForWriting(), checkpointText(head)) };
      fs.mkdirSync(stateDir, { recursive: true });
      const tmp = `${checkpointFile}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
      const fd = fs.openSync(tmp, 'wx', 0o600);
      try {
        fs.writeSync(fd, `${JSON.stringify(checkpoint)}\n`);
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      fs.renameSync(tmp, checkpointFile);
    },
    readCheckpoint,
    archiveCheckpoint(suffix) {
      if (!fs.existsSync(checkpointFile)) return undefined;
      const target = path.join(stateDir, `audit-checkpoint.superseded-${suffix}.json`);
      fs.renameSync(checkpointFile, target);
      return target;
    },
  };
}
