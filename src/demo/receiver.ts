import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedMessage {
  path: string;
  body: unknown;
}

/** A local HTTP endpoint that stands in for Slack and a webhook, so the demo shows what was sent. */
export async function startReceiver(): Promise<{ url: string; received: ReceivedMessage[]; stop(): Promise<void> }> {
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
      received.push({ path: req.url ?? '/', body });
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, received, stop: () => new Promise((resolve) => server.close(() => resolve())) };
}
