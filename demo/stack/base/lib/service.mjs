// Shared plumbing for the three demo services: routing, JSON, logging,
// metrics and graceful shutdown. Each service only declares its routes.
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { createMetrics } from './metrics.mjs';

const MAX_BODY_BYTES = 1024 * 1024;

export class HttpError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export function readVersion() {
  try {
    return readFileSync(new URL('../VERSION', import.meta.url), 'utf8').trim() || 'unknown';
  } catch {
    return 'unknown';
  }
}

// Everything goes to stdout so request and error lines stay in order in one stream.
export function log(level, message) {
  process.stdout.write(`${new Date().toISOString()} ${level} ${message}\n`);
}

// One line per error, with the throwing frame, so the log is greppable.
function describeError(err) {
  if (!(err instanceof Error)) return String(err);
  const frame = err.stack?.split('\n').find((l) => l.trim().startsWith('at '));
  return `${err.name}: ${err.message}${frame ? ` (${frame.trim()})` : ''}`;
}

export function readJson(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new HttpError(413, 'request body too large'));
        req.resume();
        return;
      }
      chunks.push(chunk);
    });
    req.on('error', reject);
    req.on('end', () => {
      if (size > MAX_BODY_BYTES) return;
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch {
        reject(new HttpError(422, 'request body must be valid JSON'));
      }
    });
  });
}

function send(res, status, body, headers = {}) {
  if (body === undefined) {
    res.writeHead(status, headers).end();
    return;
  }
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, {
    'content-type': typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

function compileRoute(route) {
  const names = [];
  const pattern = route.path.replace(/:(\w+)/g, (_, name) => {
    names.push(name);
    return '([^/]+)';
  });
  return { ...route, names, re: new RegExp(`^${pattern}/?$`) };
}

/**
 * routes: [{ method, path, handler }] where path may contain :params and
 * handler(ctx) resolves to { status?, body?, headers? }.
 */
export function createService({ name, defaultPort, routes }) {
  const version = readVersion();
  const metrics = createMetrics({ service: name, version });
  const table = [
    { method: 'GET', path: '/health', handler: () => ({ body: { status: 'healthy', version, service: name } }) },
    {
      method: 'GET',
      path: '/metrics',
      handler: () => ({ body: metrics.render(), headers: { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' } }),
    },
    ...routes,
  ].map(compileRoute);

  async function handle(req, res) {
    const started = process.hrtime.bigint();
    let pathname = req.url ?? '/';
    let routeLabel = 'unmatched'; // unknown paths share one label to bound metric cardinality
    res.on('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      metrics.observe({ method: req.method, route: routeLabel, code: res.statusCode, seconds });
      log('INFO', `${req.method} ${pathname} ${res.statusCode} ${Math.round(seconds * 1000)}ms`);
    });
    try {
      const url = new URL(req.url ?? '/', 'http://localhost');
      pathname = url.pathname;
      const candidates = table.filter((r) => r.re.test(url.pathname));
      if (candidates.length === 0) throw new HttpError(404, `no route for ${url.pathname}`);
      const route = candidates.find((r) => r.method === req.method);
      if (!route) {
        send(res, 405, { error: `method ${req.method} not allowed` }, { allow: candidates.map((r) => r.method).join(', ') });
        return;
      }
      routeLabel = route.path;
      const values = route.re.exec(url.pathname).slice(1);
      const params = Object.fromEntries(route.names.map((n, i) => [n, decodeURIComponent(values[i])]));
      const result = await route.handler({ req, url, params, query: url.searchParams, readJson: () => readJson(req) });
      send(res, result.status ?? 200, result.body, result.headers);
    } catch (err) {
      if (err instanceof HttpError) {
        send(res, err.status, { error: err.message });
      } else {
        log('ERROR', `${req.method} ${pathname} failed: ${describeError(err)}`);
        send(res, 500, { error: 'internal error' });
      }
    }
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err) => {
      log('ERROR', `unhandled: ${describeError(err)}`);
      if (!res.headersSent) send(res, 500, { error: 'internal error' });
    });
  });

  function installShutdown() {
    let stopping = false;
    const stop = (signal) => {
      if (stopping) return;
      stopping = true;
      log('INFO', `${name} received ${signal}, shutting down`);
      server.close(() => process.exit(0));
      server.closeIdleConnections();
      // Supervisors expect us gone within a second even if a client holds a connection open.
      setTimeout(() => {
        server.closeAllConnections();
        process.exit(0);
      }, 500).unref();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  }

  function start() {
    const host = process.env.HOST || '127.0.0.1';
    const port = Number(process.env.PORT || defaultPort);
    installShutdown();
    return new Promise((resolve, reject) => {
      server.once('error', (err) => {
        log('ERROR', `${name} cannot listen on ${host}:${port}: ${describeError(err)}`);
        reject(err);
      });
      server.listen(port, host, () => {
        const env = process.env.SHIPGATE_ENV ? ` env=${process.env.SHIPGATE_ENV}` : '';
        log('INFO', `${name} ${version} listening on http://${host}:${server.address().port} pid=${process.pid}${env}`);
        resolve(server);
      });
    });
  }

  return { name, version, server, start };
}

// Entry point helper: a failed listen should exit non-zero, not hang.
export function run(service) {
  service.start().catch(() => process.exit(1));
}
