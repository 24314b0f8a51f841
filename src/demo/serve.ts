import type { AppContext } from '../app/context.js';
import { createToken } from '../app/tokens.js';
import { startApiServer, type RunningApi } from '../server/start.js';

export interface DemoApi {
  api: RunningApi;
  url: string;
  viewerToken: string;
}

/** `demo --serve`: the control room API over the demo's store on a free loopback port, with a viewer token to look in. */
export async function serveDemo(ctx: AppContext, version: string): Promise<DemoApi> {
  const { token } = await createToken(ctx, { name: 'demo-viewer', role: 'viewer' });
  const api = await startApiServer(ctx, { address: { host: '127.0.0.1', port: 0 }, version });
  return { api, url: api.url, viewerToken: token };
}
