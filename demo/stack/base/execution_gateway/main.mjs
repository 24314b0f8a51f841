// Paper execution gateway with an Alpaca-like orders API, held in memory.
import { createService, HttpError, run } from '../lib/service.mjs';
import { OrderRejected, placeOrder } from './orders.mjs';

// A long load test must not grow memory without bound; oldest orders are forgotten first.
const MAX_ORDERS = 10_000;
const book = new Map();

function findOrder(id) {
  const order = book.get(id);
  if (!order) throw new HttpError(404, `order ${id} not found`);
  return order;
}

const service = createService({
  name: 'execution_gateway',
  defaultPort: 8002,
  routes: [
    {
      method: 'POST',
      path: '/orders',
      handler: async ({ readJson }) => {
        const input = await readJson();
        try {
          const order = placeOrder(book, input);
          while (book.size > MAX_ORDERS) book.delete(book.keys().next().value);
          return { status: 201, body: order };
        } catch (err) {
          if (err instanceof OrderRejected) throw new HttpError(422, err.message);
          throw err;
        }
      },
    },
    {
      method: 'GET',
      path: '/orders',
      handler: ({ query }) => {
        const status = query.get('status') ?? 'open';
        const orders = [...book.values()].filter((o) => status === 'all' || o.status === status);
        return { body: orders };
      },
    },
    {
      method: 'DELETE',
      path: '/orders',
      handler: () => {
        // 207 with one entry per order, as Alpaca does, so callers can see partial failures.
        const results = [];
        for (const order of book.values()) {
          if (order.status !== 'open') continue;
          order.status = 'canceled';
          order.canceledAt = new Date().toISOString();
          results.push({ id: order.id, status: 200 });
        }
        return { status: 207, body: results };
      },
    },
    { method: 'GET', path: '/orders/:id', handler: ({ params }) => ({ body: findOrder(params.id) }) },
    {
      method: 'DELETE',
      path: '/orders/:id',
      handler: ({ params }) => {
        const order = findOrder(params.id);
        if (order.status !== 'open') throw new HttpError(422, `order ${order.id} is ${order.status}`);
        order.status = 'canceled';
        order.canceledAt = new Date().toISOString();
        return { status: 204 };
      },
    },
    // Paper broker never fills, so there are never positions.
    { method: 'GET', path: '/positions', handler: () => ({ body: [] }) },
  ],
});

run(service);
