import { postJson, type DeliveryResult, type Notifier, type NotifyEvent, type RetryDeps, type RetryPolicy } from './notifier.js';

/**
 * Generic webhook: POSTs the event itself as JSON (`content-type: application/json`,
 * `user-agent: shipgate`), i.e. `{ event, env, version?, actor, reason?, at, detail? }`.
 */
export class WebhookNotifier implements Notifier {
  readonly type = 'webhook' as const;
  readonly #url: string;
  readonly #options: { policy?: Partial<RetryPolicy>; deps?: RetryDeps };

  constructor(url: string, options: { policy?: Partial<RetryPolicy>; deps?: RetryDeps } = {}) {
    this.#url = url;
    this.#options = options;
  }

  send(event: NotifyEvent, signal?: AbortSignal): Promise<DeliveryResult> {
    return postJson(this.#url, webhookPayload(event), {
      ...(this.#options.policy ? { policy: this.#options.policy } : {}),
      ...(this.#options.deps ? { deps: this.#options.deps } : {}),
      ...(signal ? { signal } : {}),
    });
  }

  /** Never the URL: it may carry a token. */
  toJSON(): Record<string, unknown> {
    return { type: this.type };
  }
}

/** The event with only the documented fields, absent optional ones left out. */
export function webhookPayload(event: NotifyEvent): NotifyEvent {
  return {
    event: event.event,
    env: event.env,
    ...(event.version !== undefined ? { version: event.version } : {}),
    actor: event.actor,
    ...(event.reason !== undefined ? { reason: event.reason } : {}),
    at: event.at,
    ...(event.detail !== undefined ? { detail: event.detail } : {}),
  };
}
