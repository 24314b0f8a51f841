// GET /api/events: every audit event and every reading of a soak or monitor as server-sent events,
// read from the store by sequence number and id, so what any process on the store writes (a CLI
// deploy, this server's controller) is seen.
import { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import type { AppContext } from '../app/context.js';
import { requireRole, type ApiEnv } from './auth.js';
import { sequence } from './query.js';

export function eventRoutes(ctx: AppContext, live: Set<AbortController>, pollMs: number): Hono<ApiEnv> {
  const r = new Hono<ApiEnv>();
  r.get('/events', requireRole(ctx, 'viewer'), async (c) => {
    // Resume after the last event the client saw (EventSource sends Last-Event-ID), or `since`, or from now.
    const from = sequence(c.req.header('last-event-id') ?? c.req.query('since'), 'since') ?? (await ctx.store.listAudit({ limit: 1 }))[0]?.seq ?? 0;
    return streamSSE(c, async (stream) => {
      const stop = new AbortController();
      live.add(stop);
      stream.onAbort(() => stop.abort());
      let last = from;
      // Readings are sent from the moment of connecting (a chart loads its past from /series).
      let lastReading = await ctx.store.latestReadingId();
      try {
        await stream.writeSSE({ event: 'ready', data: JSON.stringify({ after: last }), retry: 2000 });
        while (!stop.signal.aborted) {
          for (const e of await ctx.store.listAudit({ sinceSeq: last })) {
            await stream.writeSSE({ id: String(e.seq), event: 'audit', data: JSON.stringify(e) });
            last = e.seq;
          }
          for (const r of await ctx.store.readingsAfter(lastReading, 1000)) {
            await stream.writeSSE({ event: 'reading', data: JSON.stringify(r) });
            lastReading = r.id;
          }
          // The abort listener goes when the wait ends, or each poll would leave one behind.
          await new Promise<void>((resolve) => {
            const onAbort = () => (clearTimeout(t), resolve());
            const t = setTimeout(() => (stop.signal.removeEventListener('abort', onAbort), resolve()), pollMs);
            stop.signal.addEventListener('abort', onAbort, { once: true });
          });
        }
      } finally {
        live.delete(stop);
      }
    });
  });
  return r;
}
