import { isIP } from 'node:net';
import { badInput, refused } from '../core/errors.js';

export interface ListenAddress {
  host: string;
  port: number;
}

/** `127.0.0.1:8787`, `[::1]:8787`, `localhost:8787` or a bare port (loopback). */
export function parseListen(text: string): ListenAddress {
  const bad = () => badInput(`--http must be HOST:PORT, got ${JSON.stringify(text)}`, { where: '--http', hint: 'For example --http 127.0.0.1:8787 (port 0 picks a free one).' });
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s]+)):(\d{1,5})$/.exec(text.trim()) ?? /^()()(\d{1,5})$/.exec(text.trim());
  if (!m) throw bad();
  const port = Number(m[3]);
  if (port > 65_535) throw bad();
  return { host: m[1] || m[2] || '127.0.0.1', port };
}

/** Only addresses no other machine can reach: 127.0.0.0/8, ::1 and the name localhost. */
export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1' || /^::ffff:127\./i.test(host);
  return false;
}

export interface BindPolicy {
  tls: boolean;
  insecureBind: boolean;
}

/**
 * The control room listens on loopback unless told otherwise: tokens and session cookies must not
 * cross a network in clear. Another address needs TLS (--tls-cert/--tls-key) or --insecure-bind.
 */
export function checkBind(address: ListenAddress, policy: BindPolicy): void {
  if (isLoopback(address.host) || policy.tls || policy.insecureBind) return;
  throw refused(`refusing to serve the API on ${address.host}, which is not a loopback address, without TLS: tokens and session cookies would cross the network in clear`, {
    where: '--http',
    hint: 'Give --tls-cert FILE --tls-key FILE to serve HTTPS, or bind 127.0.0.1 behind a TLS proxy; --insecure-bind accepts the risk explicitly.',
  });
}
