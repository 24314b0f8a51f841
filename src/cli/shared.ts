import type { Command } from 'commander';
import type { AppContext } from '../app/context.js';
import type { LoadedConfig } from '../config/load.js';
import { findConfigFile } from '../config/locate.js';
import { badInput } from '../core/errors.js';

// Every command file imports this one at start, for --help too: it loads the config, the store
// and the adapters only when a command runs (`await import`), so a command pays for what it uses.

export interface GlobalOptions {
  config?: string;
  json?: boolean;
}

export function globalOptions(cmd: Command): GlobalOptions {
  return cmd.optsWithGlobals() as GlobalOptions;
}

/** shipgate.yml (-c FILE, or found from cwd up), checked; from the validated-config cache when its text is unchanged. */
export async function loadProjectConfig(explicit: string | undefined, cwd: string): Promise<LoadedConfig> {
  const [{ loadConfigCached }, { configCacheDir, fileConfigCache }, { installation }] = await Promise.all([
    import('../config/cached-load.js'),
    import('../adapters/host/config-cache.js'),
    import('../adapters/host/install.js'),
  ]);
  const dir = configCacheDir();
  return loadConfigCached(explicit, cwd, dir === undefined ? undefined : fileConfigCache(dir, installation().version));
}

/**
 * The runbooks (and the records they leave: approvals, audit, incidents) must work in an
 * emergency without a shipgate.yml: then environments have no broker or preconditions, Redis
 * comes from --redis-url or SHIPGATE_REDIS_URL, and the store lives in ./.shipgate.
 */
export async function configOrRunbookMode(cmd: Command, env: string): Promise<LoadedConfig> {
  const explicit = globalOptions(cmd).config;
  if (explicit || findConfigFile(process.cwd())) return loadProjectConfig(explicit, process.cwd());
  const { assertName } = await import('../config/resolve.js');
  assertName('environment', env, '--env');
  const { configSchema } = await import('../config/schema.js');
  const config = configSchema.parse({ version: 1, project: 'runbook', services: { platform: { command: ['true'] } }, environments: { [env]: {} } });
  return { file: '(none: runbook mode)', dir: process.cwd(), config };
}

/** Builds the context a command needs; the caller must close the store. */
export async function contextFor(cmd: Command, options: { runbookEnv?: string; readOnly?: boolean } = {}): Promise<AppContext> {
  const opts = globalOptions(cmd);
  const loaded = options.runbookEnv !== undefined ? await configOrRunbookMode(cmd, options.runbookEnv) : await loadProjectConfig(opts.config, process.cwd());
  const [{ createContext }, { silentProgress }, { consoleProgress }] = await Promise.all([import('../app/context.js'), import('../app/progress.js'), import('./progress.js')]);
  // In --json mode stdout carries only the JSON document; progress goes to stderr.
  const progress = opts.json ? (process.stderr.isTTY ? consoleProgress(process.stderr) : silentProgress) : consoleProgress();
  return createContext(loaded, { progress, readOnly: options.readOnly ?? false });
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
    await guardContinuity(ctx, commandPath(cmd), options);
    return await run(ctx);
  } finally {
    // Deliveries still in flight record their outcome in the store: let them finish first.
    const { flushNotifications } = await import('../app/notify.js');
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
export async function guardContinuity(ctx: AppContext, command: string, options: CommandKind): Promise<void> {
  if (ctx.continuity.ok || options.startsOver) return;
  if (options.readOnly) {
    process.stderr.write(`warning: ${ctx.continuity.problem}; what follows is what the store holds now (see \`shipgate state\`)\n`);
    return;
  }
  const { continuityError } = await import('../app/state.js');
  throw continuityError(ctx.continuity, `shipgate ${command}`);
}

export function parsePositiveInt(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw badInput(`${flag} must be a positive whole number, got ${JSON.stringify(value)}`, { where: flag, hint: `For example ${flag} 100.` });
  return n;
}
