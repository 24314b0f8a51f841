import type { Notifier, NotifyEvent, NotifyEventName, RetryDeps, RetryPolicy } from '../adapters/notify/notifier.js';
import { GrafanaNotifier } from '../adapters/notify/grafana.js';
import { SlackNotifier } from '../adapters/notify/slack.js';
import { WebhookNotifier } from '../adapters/notify/webhook.js';
import type { Store } from '../adapters/store/store.js';
import type { NotifierSpec, ShipgateConfig } from '../config/schema.js';
import { isoNow, type Clock } from '../core/clock.js';
import { record } from './audit.js';
import type { Progress } from './progress.js';

/**
 * Notifications: fire-and-forget fan-out of one event to the configured notifiers.
 *
 * `notify` starts the sends and returns at once (it is synchronous and never throws), so a
 * deploy or a rollback is never delayed or failed by Slack being slow or down. The sends are
 * tracked here; the CLI calls `flushNotifications(timeoutMs)` before it exits (and before it
 * closes the store) so they can finish, bounded. Each outcome goes into the audit log as
 * `notify.sent`, `notify.failed` or `notify.skipped` (no URL in it: URLs are secrets).
 */

/** What notify needs from the AppContext (an AppContext fits). */
export interface NotifyContext {
  config: Pick<ShipgateConfig, 'notifications'> & { project?: string };
  store: Store;
  clock: Clock;
  actor: string;
  progress?: Pick<Progress, 'warn'>;
}

/** An event as callers give it: `actor` defaults to ctx.actor and `at` to now. */
export type NotifyInput = Omit<NotifyEvent, 'actor' | 'at'> & { actor?: string; at?: string };

export interface NotifyOptions {
  /** Where the URL variables are read from (default process.env). */
  env?: NodeJS.ProcessEnv;
  policy?: Partial<RetryPolicy>;
  deps?: RetryDeps;
}

export interface FlushResult {
  /** Every send finished (delivered or given up) within the timeout. */
  complete: boolean;
  /** Sends still running at the timeout; they were aborted and recorded as failed if possible. */
  abandoned: number;
}

interface Pending {
  promise: Promise<void>;
  controller: AbortController;
}

const pending = new Set<Pending>();

/** After a flush times out, how long aborted sends get to record their failure. */
const ABORT_GRACE_MS = 1_000;

export function notify(ctx: NotifyContext, input: NotifyInput, options: NotifyOptions = {}): void {
  try {
    const specs = ctx.config.notifications ?? [];
    if (specs.length === 0) return;
    const event: NotifyEvent = { ...input, actor: input.actor ?? ctx.actor, at: input.at ?? isoNow(ctx.clock) };
    const env = options.env ?? (ctx as { env?: NodeJS.ProcessEnv }).env ?? process.env;
    specs.forEach((spec, index) => {
      if (!matchesEvents(spec.events, event.event)) return;
      const url = env[spec.urlEnv]?.trim();
      const token = spec.type === 'grafana' ? env[spec.tokenEnv]?.trim() : undefined;
      const unset = !url ? spec.urlEnv : spec.type === 'grafana' && !token ? spec.tokenEnv : undefined;
      if (!url || unset) {
        const message = `${spec.type} notification #${index + 1} skipped: ${unset} is not set`;
        warn(ctx, message);
        track((_signal) =>
          safeRecord(ctx, {
            action: 'notify.skipped',
            outcome: 'skipped',
            env: event.env,
            version: event.version ?? null,
            reason: `${unset} is not set`,
            detail: { notifier: spec.type, index, urlEnv: spec.urlEnv, event: event.event },
          }),
        );
        return;
      }
      const notifier = createNotifier(spec, url, token, ctx.config.project, options);
      track((signal) => deliver(ctx, notifier, spec, index, [url, token], event, signal));
    });
  } catch (err) {
    // A bug here must not become a failed rollback.
    warn(ctx, `notifications not sent: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/**
 * Waits (at most `timeoutMs`) for the sends started by `notify` to finish. Sends still running
 * then are aborted and given a moment to record their failure. Never throws. Call it before
 * closing the store, or the outcomes cannot be audited.
 */
export async function flushNotifications(timeoutMs = 10_000): Promise<FlushResult> {
  try {
    const deadline = Date.now() + Math.max(0, timeoutMs);
    while (pending.size > 0) {
      const left = deadline - Date.now();
      if (left <= 0) break;
      await settledOrTimeout([...pending].map((p) => p.promise), left);
    }
    const abandoned = pending.size;
    if (abandoned === 0) return { complete: true, abandoned: 0 };
    for (const p of pending) p.controller.abort();
    await settledOrTimeout([...pending].map((p) => p.promise), ABORT_GRACE_MS);
    return { complete: false, abandoned };
  } catch {
    return { complete: false, abandoned: pending.size };
  }
}

/** Sends started and not yet finished (for tests and diagnostics). */
export function pendingNotifications(): number {
  return pending.size;
}

/** An `events` filter: absent means every event; entries are names or `prefix.*`. */
export function matchesEvents(filter: readonly string[] | undefined, event: NotifyEventName | string): boolean {
  if (filter === undefined) return true;
  return filter.some((f) => f === event || f === '*' || (f.endsWith('.*') && event.startsWith(f.slice(0, -1))));
}

function createNotifier(spec: NotifierSpec, url: string, token: string | undefined, project: string | undefined, options: NotifyOptions): Notifier {
  const retry = { ...(options.policy ? { policy: options.policy } : {}), ...(options.deps ? { deps: options.deps } : {}) };
  switch (spec.type) {
    case 'slack':
      return new SlackNotifier(url, { ...retry, ...(project ? { source: project } : {}) });
    case 'webhook':
      return new WebhookNotifier(url, retry);
    case 'grafana':
      return new GrafanaNotifier(url, { ...retry, token: token ?? '', ...(spec.dashboardUid ? { dashboardUid: spec.dashboardUid } : {}), ...(spec.tags ? { tags: spec.tags } : {}) });
  }
}

/** `secrets`: the URL and, for Grafana, the token — hidden from every error that is shown or recorded. */
async function deliver(ctx: NotifyContext, notifier: Notifier, spec: NotifierSpec, index: number, secrets: [string, string | undefined], event: NotifyEvent, signal: AbortSignal): Promise<void> {
  let result;
  try {
    result = await notifier.send(event, signal);
  } catch (err) {
    result = { ok: false, attempts: 0, error: `notifier error: ${err instanceof Error ? err.name : 'unknown'}` };
  }
  const [url, token] = secrets;
  const error = result.error === undefined ? undefined : redact(token ? result.error.split(token).join('[token]') : result.error, url);
  const detail = {
    notifier: notifier.type,
    index,
    urlEnv: spec.urlEnv,
    event: event.event,
    attempts: result.attempts,
    ...(result.status !== undefined ? { status: result.status } : {}),
  };
  if (result.ok) {
    await safeRecord(ctx, { action: 'notify.sent', outcome: 'sent', env: event.env, version: event.version ?? null, reason: null, detail });
  } else {
    warn(ctx, `${notifier.type} notification of ${event.event} failed after ${result.attempts} attempt${result.attempts === 1 ? '' : 's'}: ${error ?? 'unknown error'}`);
    await safeRecord(ctx, { action: 'notify.failed', outcome: 'failed', env: event.env, version: event.version ?? null, reason: error ?? null, detail });
  }
}

function track(run: (signal: AbortSignal) => Promise<void>): void {
  const controller = new AbortController();
  const entry: Pending = { controller, promise: Promise.resolve() };
  entry.promise = run(controller.signal)
    .catch(() => undefined)
    .finally(() => pending.delete(entry));
  pending.add(entry);
}

async function safeRecord(ctx: NotifyContext, event: Parameters<typeof record>[1]): Promise<void> {
  try {
    await record(ctx, event);
  } catch (err) {
    // Typically the store was closed before flushNotifications: the outcome is lost, not the command.
    warn(ctx, `could not record ${event.action} in the audit log: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function warn(ctx: NotifyContext, message: string): void {
  try {
    ctx.progress?.warn(message);
  } catch {
    /* never let reporting break the caller */
  }
}

/** Belt and braces: the retry code never puts the URL in an error, but make sure. */
function redact(text: string, url: string): string {
  let out = text.split(url).join('[webhook URL]');
  try {
    const { host, pathname } = new URL(url);
    if (pathname.length > 1) out = out.split(pathname).join('[path]');
    if (host) out = out.split(host).join('[host]');
  } catch {
    /* not a URL: nothing more to hide */
  }
  return out;
}

function settledOrTimeout(promises: Promise<unknown>[], ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    void Promise.allSettled(promises).then(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
