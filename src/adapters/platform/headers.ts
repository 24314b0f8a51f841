/** A header as configured: plain text, or a secret from an environment variable. */
export type HeaderSpec = string | { env: string; prefix?: string | undefined };

export type ResolvedHeaders = { kind: 'ok'; headers: Record<string, string>; secrets: string[] } | { kind: 'missing'; reason: string };

/**
 * The header values to send. Secret values are also returned apart so that anything shipgate
 * prints or stores about the request can be scrubbed of them (see `redactSecrets`).
 */
export function resolveHeaders(spec: Record<string, HeaderSpec> | undefined, env: NodeJS.ProcessEnv = process.env): ResolvedHeaders {
  const headers: Record<string, string> = {};
  const secrets: string[] = [];
  for (const [name, value] of Object.entries(spec ?? {})) {
    if (typeof value === 'string') {
      headers[name] = value;
      continue;
    }
    const secret = env[value.env];
    if (!secret) return { kind: 'missing', reason: `${value.env} is not set (header ${name})` };
    secrets.push(secret);
    headers[name] = `${value.prefix ?? ''}${secret}`;
  }
  return { kind: 'ok', headers, secrets };
}

/** Removes every secret (and the userinfo of URLs) from a text meant for people or storage. */
export function redactSecrets(text: string, secrets: string[]): string {
  let out = text.replace(/\/\/([^@/\s]*)@/g, '//***@');
  for (const s of secrets.filter((x) => x.length >= 4).sort((a, b) => b.length - a.length)) out = out.split(s).join('***');
  return out;
}
