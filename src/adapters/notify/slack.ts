import { postJson, type DeliveryResult, type Notifier, type NotifyEvent, type RetryDeps, type RetryPolicy } from './notifier.js';

/**
 * Slack incoming webhook: POST `{ text, blocks }` as JSON. `text` is the short human line
 * (what notifications and screen readers show); the blocks repeat it with the details.
 */
export interface SlackMessage {
  text: string;
  blocks: SlackBlock[];
}

type SlackText = { type: 'mrkdwn'; text: string };
export type SlackBlock = { type: 'section'; text: SlackText } | { type: 'context'; elements: SlackText[] };

export interface SlackNotifierOptions {
  /** Shown in parentheses after each message; the project name from shipgate.yml. */
  source?: string;
  policy?: Partial<RetryPolicy>;
  deps?: RetryDeps;
}

export class SlackNotifier implements Notifier {
  readonly type = 'slack' as const;
  readonly #url: string;
  readonly #options: SlackNotifierOptions;

  constructor(url: string, options: SlackNotifierOptions = {}) {
    this.#url = url;
    this.#options = options;
  }

  send(event: NotifyEvent, signal?: AbortSignal): Promise<DeliveryResult> {
    return postJson(this.#url, slackMessage(event, this.#options.source), {
      ...(this.#options.policy ? { policy: this.#options.policy } : {}),
      ...(this.#options.deps ? { deps: this.#options.deps } : {}),
      ...(signal ? { signal } : {}),
    });
  }

  /** Never the URL: it is the credential. */
  toJSON(): Record<string, unknown> {
    return { type: this.type };
  }
}

/** Slack's section text is limited to 3000 characters; a reason is kept well under that. */
const MAX_REASON = 500;

export function slackMessage(event: NotifyEvent, source = 'shipgate'): SlackMessage {
  const line = `${slackHeadline(event)} (${escape(source)})`;
  const facts = [
    `*env* ${escape(event.env)}`,
    ...(event.version ? [`*version* ${escape(event.version)}`] : []),
    `*by* ${escape(event.actor)}`,
    `*at* ${escape(event.at)}`,
    `\`${event.event}\``,
  ];
  return {
    text: line,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: line } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: facts.join('  ·  ') }] },
    ],
  };
}

/** The short human line, e.g. ":rotating_light: production rolled back to v1.2.2: error rate 10.5%". */
export function slackHeadline(event: NotifyEvent): string {
  const env = escape(event.env);
  const version = event.version ? escape(event.version) : 'an unknown version';
  const why = event.reason ? `: ${escape(truncate(event.reason, MAX_REASON))}` : '';
  const actor = escape(event.actor);
  switch (event.event) {
    case 'deploy.started':
      return `:rocket: ${actor} is deploying ${version} to ${env}${why}`;
    case 'deploy.succeeded':
      return `:white_check_mark: ${env} now runs ${version}`;
    case 'deploy.failed':
      return `:x: deploy of ${version} to ${env} failed${why}`;
    case 'soak.passed':
      return `:white_check_mark: ${version} passed its soak in ${env}`;
    case 'soak.failed':
      return `:warning: ${version} failed its soak in ${env}${why}`;
    case 'monitor.blind':
      return `:see_no_evil: BLIND: the monitor of ${version} in ${env} cannot read its metrics${why}`;
    case 'monitor.inconclusive':
      return `:grey_question: monitoring of ${version} in ${env} ended inconclusive${why}`;
    case 'promotion.refused':
      return `:no_entry: promotion of ${version} to ${env} refused${why}`;
    case 'approval.requested':
      return `:raising_hand: ${actor} asks for approval to deploy ${version} to ${env}${why}`;
    case 'rollback.started':
      return `:rewind: rolling back ${env} to ${version}${why}`;
    case 'rollback.finished':
      return rollbackFailed(event)
        ? `:sos: rollback of ${env} to ${version} FAILED${why}`
        : `:rotating_light: ${env} rolled back to ${version}${why}`;
    case 'incident.opened':
      return `:rotating_light: incident opened on ${env}${event.version ? ` (${version})` : ''}${why}`;
    case 'killswitch.engaged':
      return `:octagonal_sign: kill switch engaged on ${env} by ${actor}${why}`;
    case 'release.announced':
      return `:mega: ${actor}: ${version} is planned for ${env}${why}`;
  }
}

/** A finished rollback that did not succeed says so (detail.outcome "failed" or detail.ok false). */
function rollbackFailed(event: NotifyEvent): boolean {
  return event.detail?.ok === false || event.detail?.outcome === 'failed';
}

/** Slack mrkdwn control characters (its documented escaping: &, <, >). */
function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function truncate(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}
