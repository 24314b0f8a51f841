// A trading platform's own control API, as real platforms expose it: authenticated (Bearer token)
// endpoints to engage and release its kill switch and to cancel all orders, which keep the state
// in the platform's Redis as a JSON object under the platform's own key and words
// (risk:halt_all {"status": "ON" | "OFF", ...}). It records every request it gets, so tests can
// prove shipgate called it, and with which token.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createClient } from 'redis';

type Redis = ReturnType<typeof createClient>;

export interface PlatformRequest {
  method: string;
  path: string;
  authorization: string | undefined;
  body: unknown;
}

export interface FakePlatformOptions {
  redisUrl: string;
  token: string;
  killSwitchKey?: string;
}

export class FakePlatform {
  readonly requests: PlatformRequest[] = [];
  /** GET /public/positions: what the platform believes it holds. */
  positions: { symbol: string; qty: number }[] = [];
  /** How many orders the platform's own cancel-all reports. */
  cancelled = 0;
  /** When false, engage answers 200 but does not touch Redis (a platform that lies). */
  writesState = true;

  private constructor(
    private readonly server: http.Server,
    readonly url: string,
    private readonly redis: Redis,
    private readonly opts: Required<FakePlatformOptions>,
  ) {}

  static async start(opts: FakePlatformOptions): Promise<FakePlatform> {
    const redis: Redis = createClient({ url: opts.redisUrl });
    redis.on('error', () => undefined);
    await redis.connect();
    let fake: FakePlatform | undefined;
    const server = http.createServer((req, res) => void fake!.handle(req, res));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    fake = new FakePlatform(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`, redis, { killSwitchKey: 'risk:halt_all', ...opts });
    return fake;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
    if (this.redis.isOpen) await this.redis.quit().catch(() => undefined);
  }

  calls(path: string): PlatformRequest[] {
    return this.requests.filter((r) => r.path === path);
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    let text = '';
    for await (const chunk of req) text += chunk;
    let body: unknown = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      body = text;
    }
    const path = (req.url ?? '/').split('?')[0]!;
    this.requests.push({ method: req.method ?? 'GET', path, authorization: req.headers.authorization, body });
    const send = (status: number, payload: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(payload));
    };
    // Read-only positions for reconciliation are public; everything that acts needs the token.
    if (req.method === 'GET' && path === '/public/positions') return send(200, this.positions);
    if (req.headers.authorization !== `Bearer ${this.opts.token}`) return send(401, { detail: 'not authenticated' });

    if (req.method === 'GET' && path === '/api/v1/kill-switch') return send(200, JSON.parse((await this.redis.get(this.opts.killSwitchKey)) ?? '{}'));
    if (req.method === 'POST' && (path === '/api/v1/kill-switch/engage' || path === '/api/v1/kill-switch/disengage')) {
      const engage = path.endsWith('/engage');
      const b = (body ?? {}) as { reason?: string; operator?: string };
      if (engage && !b.reason) return send(422, { detail: 'reason is required' });
      if (this.writesState) {
        const current = JSON.parse((await this.redis.get(this.opts.killSwitchKey)) ?? '{}') as Record<string, unknown>;
        const next = { ...current, status: engage ? 'ON' : 'OFF', reason: b.reason ?? null, operator: b.operator ?? null, changed_at: new Date().toISOString(), changed_by: 'platform-api' };
        await this.redis.set(this.opts.killSwitchKey, JSON.stringify(next));
      }
      return send(200, { status: engage ? 'engaged' : 'disengaged' });
    }
    if (req.method === 'POST' && path === '/api/v1/orders/cancel-all') return send(200, { cancelled: this.cancelled });
    return send(404, { detail: 'not found' });
  }
}
