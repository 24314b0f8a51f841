import type { Command } from 'commander';
import { createContext, type AppContext } from '../app/context.js';
import { flushNotifications } from '../app/notify.js';
import { silentProgress } from '../app/progress.js';
import { loadConfig } from '../config/load.js';
import { badInput } from '../core/errors.js';
import { consoleProgress } from './progress.js';

export interface GlobalOptions {
  config?: string;
  json?: boolean;
}

export function globalOptions(cmd: Command): GlobalOptions {
  return cmd.optsWithGlobals() as GlobalOptions;
}

/** Builds the context a command needs; the caller must close the store. */
export async function contextFor(cmd: Command): Promise<AppContext> {
  const opts = globalOptions(cmd);
  const loaded = loadConfig(opts.config, process.cwd());
  // In --json mode stdout carries only the JSON document; progress goes to stderr.
  const progress = opts.json ? (process.stderr.isTTY ? consoleProgress(process.stderr) : silentProgress) : consoleProgress();
  return createContext(loaded, { progress });
}

export async function withContext<T>(cmd: Command, run: (ctx: AppContext) => Promise<T>): Promise<T> {
  const ctx = await contextFor(cmd);
  try {
    return await run(ctx);
  } finally {
    // Deliveries still in flight record their outcome in the store: let them finish first.
    await flushNotifications(10_000);
    await ctx.store.close();
  }
}

export function parsePositiveInt(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw badInput(`${flag} must be a positive whole number, got ${JSON.stringify(value)}`, { where: flag, hint: `For example ${flag} 100.` });
  return n;
}
