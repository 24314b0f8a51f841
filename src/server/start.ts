import { readFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { AppContext } from '../app/context.js';
import { badInput } from '../core/errors.js';
import { createApi, type ApiApp, type ApiOptions } from './app.js';
import { checkBind, type ListenAddress } from './bind.js';

export interface ServeOptions extends Omit<ApiOptions, 'secure'> {
  address: ListenAddress;
  tlsCert?: string | undefined;
  tlsKey?: string | undefined;
  insecureBind?: boolean | undefined;
}

export interface RunningApi extends ApiApp {
  url: string;
  close(): Promise<void>;
}

function readPem(file: string, flag: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw badInput(`cannot read ${flag} ${file}: ${(err as Error).message}`, { where: flag, hint: 'Give a PEM file readable by this user.' });
  }
}

/** Starts the API (HTTPS with a certificate and key); refuses a non-loopback address without TLS or --insecure-bind. */
export async function startApiServer(ctx: AppContext, options: ServeOptions): Promise<RunningApi> {
  if (Boolean(options.tlsCert) !== Boolean(options.tlsKey)) throw badInput('--tls-cert and --tls-key go together', { where: options.tlsCert ? '--tls-key' : '--tls-cert', hint: 'Give both PEM files, or neither.' });
  const tls = options.tlsCert && options.tlsKey ? { cert: readPem(options.tlsCert, '--tls-cert'), key: readPem(options.tlsKey, '--tls-key') } : undefined;
  checkBind(options.address, { tls: Boolean(tls), insecureBind: Boolean(options.insecureBind) });
  const api = createApi(ctx, { ...options, secure: Boolean(tls) });
  const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
    const s = serve(
      { fetch: api.app.fetch, hostname: options.address.host, port: options.address.port, ...(tls ? { createServer: createHttpsServer, serverOptions: tls } : {}) },
      () => resolve(s),
    );
    s.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'EADDRINUSE' || err.code === 'EADDRNOTAVAIL' || err.code === 'EACCES'
        ? badInput(`cannot listen on ${options.address.host}:${options.address.port}: ${err.message}`, { where: '--http', hint: 'Pick another port (0 picks a free one) or address.' })
        : err),
    );
  });
  const port = (server.address() as AddressInfo).port;
  const host = options.address.host.includes(':') ? `[${options.address.host}]` : options.address.host;
  return {
    ...api,
    url: `${tls ? 'https' : 'http'}://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        api.endStreams();
        server.close(() => resolve());
        (server as { closeAllConnections?: () => void }).closeAllConnections?.();
      }),
  };
}
