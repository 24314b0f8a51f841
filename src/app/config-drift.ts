// A running `shipgate serve` judges with the configuration it started with. When shipgate.yml
// changes under it, soaks and monitors started by new commands would be judged by the old checks
// (a mix nobody asked for): each controller says so, once per change, until it is restarted.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { record } from './audit.js';
import type { AppContext } from './context.js';

const digest = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 16);

async function fileDigest(file: string): Promise<string> {
  try {
    return digest(await readFile(file, 'utf8'));
  } catch (err) {
    return `unreadable: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`;
  }
}

export interface ConfigDrift {
  /** A message (and an audit event) the first time the file differs from what this process loaded, or differs again. */
  check(): Promise<string | undefined>;
}

export async function watchConfigDrift(ctx: AppContext): Promise<ConfigDrift> {
  const loaded = await fileDigest(ctx.configFile);
  let reported = loaded;
  return {
    async check() {
      const now = await fileDigest(ctx.configFile);
      if (now === reported) return undefined;
      reported = now;
      if (now === loaded) return `${ctx.configFile} is back to the configuration this controller runs with`;
      const what = now.startsWith('unreadable') ? `cannot be read (${now.slice(12)})` : 'changed';
      await record(ctx, { action: 'controller.config-changed', outcome: 'stale', reason: `${ctx.configFile} ${what} since this controller started; it still judges with the configuration it loaded`, detail: { pid: ctx.pid, host: ctx.host, loaded, now } });
      return `${ctx.configFile} ${what} since this controller started: it still judges every soak and monitor with the configuration it loaded; restart each \`shipgate serve\` to apply the change`;
    },
  };
}
