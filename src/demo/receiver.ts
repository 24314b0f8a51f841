import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedMessage {
  path: string;
  body: unknown;
  /** Grafana only: the request carried the expected service-account token. */
  authorized?: boolean;
}

/**
 * A local HTTP endpoint that stands in for Slack, a webhook and Grafana, so the demo shows what
 * was sent. Like Grafana, `/grafana/api/annotations` answers 401 without the bearer token and
 * `{ message: "Annotation added", id }` with it.
 */
export async function startReceiver(grafanaToken = 'demo-grafana-token'): Promise<{ url: string; grafanaToken: string; received: ReceivedMessage[]; stop(): Promise<void> }> {
  let annotationId = 0;
  const received: ReceivedMessage[] = [];
  const server = http.createServer((req, res) => {
    let data = '';
    req.on('data', (chunk) => (data += chunk));
    req.on('end', () => {
      let body: unknown = data;
      try {
        body = JSON.parse(data);
      } catch {
        /* keep the raw text */
      }
      const path = req.url ?? '/';
      if (path.startsWith('/grafana/')) {
        const authorized = req.headers.authorization === `Bearer ${grafanaToken}`;
        received.push({ path, body, authorized });
        if (!authorized) return void res.writeHead(401, { 'content-type': 'application/json' }).end('{"message":"Unauthorized"}');
        return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ message: 'Annotation added', id: ++annotationId }));
      }
      received.push({ path, body });
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, grafanaToken, received, stop: () => new Promise((resolve) => server.close(() => resolve())) };
}
