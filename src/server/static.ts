// The dashboard's static files (built by Vite into dist/web, `npm run build`), served at / by the
// same process as the API. Only files inside that directory; anything else under / is index.html.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Context, Hono } from 'hono';
import { installedFile } from '../adapters/host/install.js';
import type { ApiEnv } from './auth.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml', '.png': 'image/png', '.ico': 'image/x-icon', '.json': 'application/json', '.map': 'application/json',
};

/** dist/web of the installation, found from its package.json: the same from src/ (tests), dist/ and the bundle. */
export function dashboardDir(): string | undefined {
  const dir = installedFile('dist', 'web');
  return existsSync(path.join(dir, 'index.html')) ? dir : undefined;
}

// Everything the page loads comes from this server: no external assets, no inline scripts.
const CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

export function dashboardRoutes(app: Hono<ApiEnv>, dir = dashboardDir()): void {
  const send = async (c: Context<ApiEnv>, file: string) => {
    const body = await readFile(file);
    return c.body(body, 200, { 'Content-Type': TYPES[path.extname(file)] ?? 'application/octet-stream', 'Content-Security-Policy': CSP });
  };
  app.get('/assets/:name', async (c) => {
    const name = c.req.param('name');
    if (!dir || !/^[\w.-]+$/.test(name) || name.startsWith('.')) return c.notFound();
    const file = path.join(dir, 'assets', name);
    return existsSync(file) ? send(c, file) : c.notFound();
  });
  app.get('/', async (c) => {
    if (!dir) {
      return c.text('The dashboard is not built: run `npm run build` in the shipgate directory (the API is served under /api).', 503);
    }
    return send(c, path.join(dir, 'index.html'));
  });
}
