import type { Command } from 'commander';
import { createContext, type AppContext } from '../app/context.js';
import { flushNotifications } from '../app/notify.js';
import { silentProgress } from '../app/progress.js';
import { continuityError } from '../app/state.js';
import { findConfigFile, loadConfig, type LoadedConfig } from '../config/load.js';
import { assertName } from '../config/resolve.js';
import { configSchema } from '../config/schema.js';
import { badInput } from '../core/errors.js';
import { consoleProgress } from './progress.js';

export interface GlobalOptions {
  config?: string;
  json?: boolean;
}

export function globalOptions(cmd: Command): GlobalOptions {
  return cmd.optsWithGlobals() as GlobalOptions;
}

/**
 * The runbooks (and the records they leave: approvals, audit, incidents) must work in an
 * emergency without a shipgate.yml: then environments have no broker or preconditions, Redis
 * comes from --redis-url or SHIPGATE_REDIS_URL, and the store lives in ./.shipgate.
 */
export function configOrRunbookMode(cmd: Command, env: string): LoadedConfig {
  const explicit = globalOptions(cmd).config;
  if (explicit || findConfigFile(process.cwd())) return loadConfig(explicit, process.cwd());
  assertName('environment', env, '--env');
  const config = configSchema.parse({ version: 1, project: 'runbook', services: { platform: { command: ['true'] } }, environments: { [env]: {} } });
  return { file: '(none: runbook mode)', dir: process.cwd(), config };
}

/** Builds the context a command needs; the caller must close the store. */
export async function contextFor(cmd: Command, options: { runbookEnv?: string } = {}): Promise<AppContext> {
  const opts = globalOptions(cmd);
  const loaded = options.runbookEnv !== undefined ? configOrRunbookMode(cmd, options.runbookEnv) : loadConfig(opts.config, process.cwd());
  // In --json mode stdout carries only the JSON document; progress goes to stderr.
  const progress = opts.json ? (process.stderr.isTTY ? consoleProgress(process.stderr) : silentProgress) : consoleProgress();
  return createContext(loaded, { progress });
}

export interface CommandKind {
  runbookEnv?: string;
  /** Reads only: it runs (with a warning) on a store that lost its history; every other command refuses. */
  readOnly?: boolean;
  /** `state init`: the one command meant for a store that lost its history. */
  startsOver?: boolean;
}

export async function withContext<T>(cmd: Command, run: (ctx: AppContext) => Promise<T>, options: CommandKind = {}): Promise<T> {
  const ctx = await contextFor(cmd, options);
  try {
    guardContinuity(ctx, commandPath(cmd), options);
    return await run(ctx);
  } finally {
    // Deliveries still in flight record their outcome in the store: let them finish first.
    await flushNotifications(10_000);
    await ctx.connections.closeAll();
    await ctx.store.close();
  }
}

export function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/** A mutating command on a store that does not match its state directory would start a new history silently. */
export function guardContinuity(ctx: AppContext, command: string, options: CommandKind): void {
  if (ctx.continuity.ok || options.startsOver) return;
  if (options.readOnly) {
    process.stderr.write(`warning: ${ctx.continuity.problem}; what follows is what the store holds now (see \`shipgate state\`)\n`);
    return;
  }
  throw continuityError(ctx.continuity, `shipgate ${command}`);
}

export function parsePositiveInt(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw badInput(`${flag} must be a positive whole number, got ${JSON.stringify(value)}`, { where: flag, hint: `For example ${flag} 100.` });
  return n;
}
