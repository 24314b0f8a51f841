// The control room's HTTP API: one Hono app over the same app/ use cases the CLI calls.
import { Hono } from 'hono';
import type { AppContext } from '../app/context.js';
import { ShipgateError } from '../core/errors.js';
import { authenticate, problem, type ApiEnv } from './auth.js';
import { adminRoutes } from './routes-admin.js';
import { ciRoutes } from './routes-ci.js';
import { eventRoutes } from './events.js';
import { loginRoutes } from './login.js';
import { createMetrics, type ApiMetrics } from './metrics.js';
import { openApiDocument } from './openapi.js';
import { opsRoutes } from './routes-ops.js';
import { readRoutes } from './routes-read.js';
import { releaseRoutes } from './routes-release.js';
import { writeRoutes } from './routes-write.js';
import { Sessions } from './sessions.js';
import { dashboardRoutes } from './static.js';

export interface ApiOptions {
  /** Cookies carry Secure when served over HTTPS. */
  secure: boolean;
  version: string;
  sessionTtlMs?: number;
  loginAttemptsPerMinute?: number;
  eventPollMs?: number;
}

export interface ApiApp {
  app: Hono<ApiEnv>;
  metrics: ApiMetrics;
  /** Ends every open event stream (so the server can close). */
  endStreams(): void;
}

/** exit code 2 bad input → 400, 3 refused by policy → 409, 1 the operation failed → 500. */
const STATUS = { 1: 500, 2: 400, 3: 409 } as const;

export function createApi(ctx: AppContext, options: ApiOptions): ApiApp {
  const app = new Hono<ApiEnv>();
  const sessions = new Sessions(ctx.store.sessions, options.sessionTtlMs ?? 12 * 3600_000, () => ctx.wallClock.now().getTime());
  const metrics = createMetrics(ctx.store);
  const live = new Set<AbortController>();

  app.onError((err, c) => {
    if (err instanceof ShipgateError) {
      const status = err.exitCode === 0 ? 500 : STATUS[err.exitCode];
      return c.json({ ok: false as const, error: { message: err.message, ...(err.where ? { where: err.where } : {}), ...(err.hint ? { hint: err.hint } : {}), ...(err.data ? { data: err.data } : {}) } }, status);
    }
    // Never a stack trace to the caller; the serving terminal gets it with SHIPGATE_DEBUG=1.
    process.stderr.write(`api: ${c.req.method} ${c.req.path} failed: ${err.message}\n${process.env.SHIPGATE_DEBUG && err.stack ? `${err.stack}\n` : ''}`);
    return problem(c, 500, `internal error: ${err.message}`, 'See the output of `shipgate serve`.');
  });
  app.notFound((c) => problem(c, 404, `no such endpoint: ${c.req.method} ${c.req.path}`, 'See GET /api/openapi.json.'));

  app.use('*', async (c, next) => {
    await next();
    c.header('Cache-Control', 'no-store');
    c.header('X-Content-Type-Options', 'nosniff');
  });
  app.get('/metrics', async (c) => c.body(await metrics.registry.metrics(), 200, { 'Content-Type': metrics.registry.contentType }));
  dashboardRoutes(app);
  app.get('/api/openapi.json', (c) => c.json(openApiDocument(options.version)));
  app.use('/api/*', authenticate(ctx, sessions));
  app.route('/api', loginRoutes(ctx, sessions, { secure: options.secure, sessionTtlMs: options.sessionTtlMs ?? 12 * 3600_000, attemptsPerMinute: options.loginAttemptsPerMinute ?? 5 }));
  app.route('/api', eventRoutes(ctx, live, options.eventPollMs ?? 500));
  app.route('/api', writeRoutes(ctx));
  app.route('/api', readRoutes(ctx));
  app.route('/api', ciRoutes(ctx));
  app.route('/api', releaseRoutes(ctx));
  app.route('/api', opsRoutes(ctx));
  app.route('/api', adminRoutes(ctx));
  return { app, metrics, endStreams: () => live.forEach((s) => s.abort()) };
}
