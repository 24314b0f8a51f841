import { postJson, type DeliveryResult, type Notifier, type NotifyEvent, type RetryDeps, type RetryPolicy } from './notifier.js';

/**
 * Grafana annotations: each event becomes an annotation on Grafana's timeline, so a latency
 * spike on a dashboard sits next to the deploy, soak verdict or rollback that explains it.
 *
 * Uses Grafana's annotations HTTP API (`POST <grafana>/api/annotations`, JSON body
 * `{ time, tags, text, dashboardUID? }`, `Authorization: Bearer <service-account token>`).
 * Without a dashboard UID the annotation is an organization annotation, shown on any
 * dashboard whose "Annotations & Alerts" query filters by the tags below.
 */
export interface GrafanaOptions {
  /** Service-account token; a secret, never printed or recorded. */
  token: string;
  dashboardUid?: string;
  /** Extra tags on every annotation (the environment, version and event are always tagged). */
  tags?: string[];
  policy?: Partial<RetryPolicy>;
  deps?: RetryDeps;
}

export interface GrafanaAnnotation {
  /** Epoch milliseconds. */
  time: number;
  tags: string[];
  text: string;
  dashboardUID?: string;
}

export class GrafanaNotifier implements Notifier {
  readonly type = 'grafana' as const;
  readonly #endpoint: string;
  readonly #options: GrafanaOptions;

  constructor(baseUrl: string, options: GrafanaOptions) {
    this.#endpoint = annotationsEndpoint(baseUrl);
    this.#options = options;
  }

  send(event: NotifyEvent, signal?: AbortSignal): Promise<DeliveryResult> {
    return postJson(this.#endpoint, grafanaAnnotation(event, this.#options), {
      headers: { authorization: `Bearer ${this.#options.token}` },
      ...(this.#options.policy ? { policy: this.#options.policy } : {}),
      ...(this.#options.deps ? { deps: this.#options.deps } : {}),
      ...(signal ? { signal } : {}),
    });
  }

  /** Never the URL or the token. */
  toJSON(): Record<string, unknown> {
    return { type: this.type };
  }
}

/** `https://grafana.example.com/` and `https://host/grafana` both end in `/api/annotations`. */
export function annotationsEndpoint(baseUrl: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/api/annotations`;
}

/** Tags are how a dashboard selects annotations, so they are stable `key:value` words. */
export function grafanaAnnotation(event: NotifyEvent, options: Pick<GrafanaOptions, 'dashboardUid' | 'tags'> = {}): GrafanaAnnotation {
  const time = Date.parse(event.at);
  const tags = ['shipgate', event.event, `env:${event.env}`, ...(event.version ? [`version:${event.version}`] : []), ...(options.tags ?? [])];
  const headline = [event.event, event.env, event.version].filter(Boolean).join(' ');
  const text = [`shipgate: ${headline}`, event.reason ? `reason: ${event.reason}` : '', `by ${event.actor}`].filter(Boolean).join(' — ');
  return { time: Number.isFinite(time) ? time : Date.now(), tags, text, ...(options.dashboardUid ? { dashboardUID: options.dashboardUid } : {}) };
}
