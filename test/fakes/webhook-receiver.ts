// A local HTTP server standing in for Slack or a webhook endpoint: it records every request
// and answers from a script (500, 429 with Retry-After, 400, delays) before answering 200 "ok".
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ScriptedAnswer {
  status?: number;
  /** Value of the Retry-After header. */
  retryAfter?: string;
  /** Wait this long before answering. */
  delayMs?: number;
  body?: string;
}

export interface ReceivedRequest {
  n: number;
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** performance.now() when the request was complete, and when it was answered. */
  receivedAt: number;
  answeredAt?: number;
  status?: number;
  json<T = any>(): T;
}

export interface WebhookReceiver {
  /** http://127.0.0.1:PORT + path. */
  url(path?: string): string;
  readonly requests: ReceivedRequest[];
  /** Answers for the next requests, in order; after they run out, 200 "ok". */
  script(...answers: ScriptedAnswer[]): void;
  /** Resolves when at least n requests have arrived. */
  waitForRequests(n: number): Promise<void>;
  close(): Promise<void>;
}

export async function startWebhookReceiver(options: { log?: (event: string) => void } = {}): Promise<WebhookReceiver> {
  const requests: ReceivedRequest[] = [];
  const queue: ScriptedAnswer[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  const timers = new Set<NodeJS.Timeout>();

  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      const answer = queue.shift() ?? {};
      const entry: ReceivedRequest = {
        n: requests.length + 1,
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body,
        receivedAt: performance.now(),
        json: () => JSON.parse(body),
      };
      requests.push(entry);
      options.log?.(`received ${entry.n}`);
      for (const w of waiters.filter((w) => requests.length >= w.n)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
      const respond = () => {
        const status = answer.status ?? 200;
        const headers: Record<string, string> = { 'content-type': 'text/plain' };
        if (answer.retryAfter !== undefined) headers['retry-after'] = answer.retryAfter;
        entry.status = status;
        entry.answeredAt = performance.now();
        options.log?.(`answered ${entry.n} ${status}`);
        res.writeHead(status, headers).end(answer.body ?? (status < 300 ? 'ok' : 'error'));
      };
      if (answer.delayMs) {
        const timer = setTimeout(() => {
          timers.delete(timer);
          respond();
        }, answer.delayMs);
        timers.add(timer);
      } else respond();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: (path = '/hook') => `http://127.0.0.1:${port}${path}`,
    requests,
    script: (...answers) => void queue.push(...answers),
    waitForRequests: (n) => (requests.length >= n ? Promise.resolve() : new Promise((resolve) => waiters.push({ n, resolve }))),
    close: async () => {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
