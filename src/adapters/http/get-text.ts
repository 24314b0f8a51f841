import http from 'node:http';
import type https from 'node:https';

/**
 * One GET over node:http with kept-alive connections: what the controller asks every second of
 * every service (health and /metrics). Node's fetch costs several times the CPU per request
 * (streams, abort signals, DOMExceptions): with 200 services that was a third of the controller's
 * time (bench/controller-scale.bench.mjs).
 */
export type TextAnswer = { kind: 'answer'; status: number; text: string } | { kind: 'timeout' } | { kind: 'failed'; reason: string };

// Kept-alive sockets per origin: a service scraped each second answers on one connection.
const httpAgent = new http.Agent({ keepAlive: true, maxSockets: 8 });
// node:https (TLS, crypto) only for an https URL: loading it cost a plain-http `shipgate status` ~10 ms (issue 15).
let secure: Promise<{ client: typeof https; agent: https.Agent }> | undefined;
const httpsClient = () =>
  (secure ??= import('node:https').then(({ default: client }) => ({ client, agent: new client.Agent({ keepAlive: true, maxSockets: 8 }) })));

class Timeout extends Error {}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 5;

/** Follows redirects as fetch did (a health URL behind `/health` → `/health/` keeps working). */
export async function getText(url: string, timeoutMs: number, headers: Record<string, string> = {}): Promise<TextAnswer> {
  const deadline = Date.now() + timeoutMs;
  let current = url;
  for (let hop = 0; ; hop++) {
    let parsed: URL;
    try {
      parsed = new URL(current);
    } catch {
      return { kind: 'failed', reason: `invalid URL ${current}` };
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return { kind: 'failed', reason: `unsupported protocol ${parsed.protocol}` };
    const answer = await getOnce(parsed, Math.max(1, deadline - Date.now()), headers);
    if (answer.kind !== 'answer' || !REDIRECTS.has(answer.status) || !answer.location) return strip(answer);
    if (hop === MAX_REDIRECTS) return { kind: 'failed', reason: `more than ${MAX_REDIRECTS} redirects` };
    current = new URL(answer.location, parsed).href;
  }
}

const strip = (a: Answer): TextAnswer => (a.kind === 'answer' ? { kind: 'answer', status: a.status, text: a.text } : a);

async function getOnce(url: URL, timeoutMs: number, headers: Record<string, string>): Promise<Answer> {
  const first = await once(url, timeoutMs, headers);
  // A kept-alive connection the server closed just as it was reused: the request never reached it.
  if (first.kind !== 'reset') return first;
  const second = await once(url, timeoutMs, headers);
  return second.kind === 'reset' ? { kind: 'failed', reason: 'ECONNRESET' } : second;
}

type Answer = { kind: 'answer'; status: number; text: string; location?: string | undefined } | { kind: 'timeout' } | { kind: 'failed'; reason: string };
type Attempt = Answer | { kind: 'reset' };

async function once(url: URL, timeoutMs: number, headers: Record<string, string>): Promise<Attempt> {
  const { client, agent } = url.protocol === 'https:' ? await httpsClient() : { client: http, agent: httpAgent };
  return new Promise<Attempt>((resolve) => {
    const req = client.get(url, { agent, headers });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      req.destroy(new Timeout());
    }, timeoutMs);
    // Whichever event reports first decides; a timeout reads as a timeout whatever error it caused.
    const settle = (a: Attempt) => {
      clearTimeout(timer);
      resolve(timedOut ? { kind: 'timeout' } : a);
    };
    req.on('error', (err: Error & { code?: string }) => {
      if (err.code === 'ECONNRESET' && req.reusedSocket) return settle({ kind: 'reset' });
      settle({ kind: 'failed', reason: err.code ?? err.message });
    });
    req.on('response', (res) => {
      res.setEncoding('utf8');
      let text = '';
      res.on('data', (chunk: string) => (text += chunk));
      const answer = () => ({ kind: 'answer' as const, status: res.statusCode ?? 0, text, location: res.headers.location });
      res.on('end', () => settle(answer()));
      res.on('error', (err: Error & { code?: string }) => settle({ kind: 'failed', reason: err.code ?? err.message }));
      // Cut off mid-answer (the timeout destroyed it, or the server went away): settled above when it said why.
      res.on('close', () => settle(res.complete ? answer() : { kind: 'failed', reason: 'connection closed before the answer was complete' }));
    });
  });
}
