import { createHash } from 'node:crypto';
import { closeSync, createReadStream, existsSync, openSync, statSync } from 'node:fs';
import path from 'node:path';
import { failed, refused } from '../../core/errors.js';

export interface BackupFile {
  /** Absolute path of the verified dump. */
  file: string;
  sizeBytes: number;
  sha256: string;
  /** Entries `pg_restore --list` reads back (> 0, else the backup throws). */
  verifiedEntries: number;
  /** How many of them are table data. */
  tableData: number;
  /** The database server's clock just before the dump started: rows newer than this are not in it. */
  snapshotAt: string;
  durationMs: number;
}

/** `<env>_YYYYMMDD_HHMMSS.dump` in UTC. */
export function backupFileName(env: string, at: Date): string {
  const iso = at.toISOString(); // 2026-03-02T14:05:09.123Z
  return `${env}_${iso.slice(0, 10).replaceAll('-', '')}_${iso.slice(11, 19).replaceAll(':', '')}.dump`;
}

/**
 * Claims a name no other backup uses (a second backup in the same second gets "_2", ...) by
 * creating its ".partial" file exclusively, mode 0600: pg_dump then writes into that file, which
 * keeps the mode, so the dump is never readable by others, not even while it is written.
 */
export function claimBackupFile(dir: string, env: string, at: Date): { file: string; partial: string } {
  const base = backupFileName(env, at).replace(/\.dump$/, '');
  for (let n = 1; n < 1000; n++) {
    const file = path.join(path.resolve(dir), `${base}${n === 1 ? '' : `_${n}`}.dump`);
    const partial = `${file}.partial`;
    if (existsSync(file)) continue;
    try {
      closeSync(openSync(partial, 'wx', 0o600));
      return { file, partial };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw failed(`cannot create a backup file in ${dir}: ${(err as Error).message}`, { hint: 'Check that the backup directory (database.backupDir) is writable.' });
    }
  }
  throw failed(`too many backups named ${base} in ${dir}`);
}

export function fileSha256(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(file)
      .on('error', reject)
      .on('data', (chunk) => hash.update(chunk))
      .on('end', () => resolve(hash.digest('hex')));
  });
}

/** Refuses (exit 3) a dump whose SHA-256 or size differs from what was recorded; a missing file fails (exit 1). */
export async function verifyChecksum(file: string, expected: { sha256: string; sizeBytes?: number }): Promise<void> {
  if (!existsSync(file)) throw failed(`the backup file ${file} does not exist`, { hint: 'It was moved or deleted; restore it from off-host copies, or pick another backup (`shipgate backups`).' });
  const size = statSync(file).size;
  const sha256 = await fileSha256(file);
  if (sha256 !== expected.sha256 || (expected.sizeBytes !== undefined && size !== expected.sizeBytes)) {
    throw refused(`the backup file ${file} was modified after it was taken (SHA-256 ${sha256.slice(0, 12)}…, recorded ${expected.sha256.slice(0, 12)}…); it will not be restored`, {
      hint: 'Use another backup (`shipgate backups`), or find out who changed the file.',
      data: { reason: 'checksum-mismatch', file, sha256, expectedSha256: expected.sha256, sizeBytes: size, expectedSizeBytes: expected.sizeBytes ?? null },
    });
  }
}
