import os from 'node:os';
import type { Argv } from '../runner/runner.js';

// Pure argv builders for the PostgreSQL client tools; tests assert these arrays exactly.
//
// None of them carries a connection: the database URL is a secret, and argv is visible to every
// user of the host (`ps`, /proc/PID/cmdline) and ends up in logs and audit records. The adapter
// passes the connection to the child through libpq's variables instead (PGHOST, PGPORT, PGUSER,
// PGPASSWORD, PGDATABASE, ...; see `libpqEnv`), which only the same user and root can read.
//
// --no-password: never prompt (a prompt on the terminal would hang an unattended deploy); a
// missing or wrong password fails at once with libpq's message.

export const pgCommands = {
  /**
   * Custom format (-Fc): compressed, read back with `pg_restore --list` to verify, restorable
   * object by object. Owners and privileges are kept (no --no-owner / --no-acl): the restore is
   * meant to give back exactly the database that was dumped, and is run by the same role.
   */
  pgDump: (file: string): Argv => ['pg_dump', '--format=custom', '--no-password', '--file', file],
  /** The archive's table of contents: one line per entry, comments start with ";". */
  pgRestoreList: (file: string): Argv => ['pg_restore', '--list', file],
  /** Reads every entry and data block of the archive and throws the SQL away: proof it is whole. */
  pgRestoreReadAll: (file: string): Argv => ['pg_restore', '--file', os.devNull, file],
  /**
   * The restore as a SQL script on stdout (no connection): drop each dumped object if it exists,
   * then recreate it with its data. The adapter streams it into `psqlApply` inside one transaction.
   */
  pgRestoreScript: (file: string): Argv => ['pg_restore', '--clean', '--if-exists', '--file', '-', file],
  /** Runs SQL read from stdin; stops at the first error (exit 3). */
  psqlApply: (): Argv => ['psql', '--no-psqlrc', '--quiet', '--no-password', '--set', 'ON_ERROR_STOP=1', '--file', '-'],
  /** One statement, unaligned tuples only: for scripts and tests. */
  psqlQuery: (sql: string): Argv => ['psql', '--no-psqlrc', '--no-password', '--tuples-only', '--no-align', '--set', 'ON_ERROR_STOP=1', '--command', sql],
};

/** Connection variables libpq reads; any of them inherited from shipgate's own environment is removed so the URL alone decides. */
export const LIBPQ_CONNECTION_VARIABLES = ['PGHOST', 'PGHOSTADDR', 'PGPORT', 'PGDATABASE', 'PGUSER', 'PGPASSWORD', 'PGSERVICE', 'PGOPTIONS'] as const;

/** URL query parameters libpq accepts, and the variable each one maps to. */
const PARAMETER_VARIABLES: Record<string, string> = {
  host: 'PGHOST',
  hostaddr: 'PGHOSTADDR',
  port: 'PGPORT',
  dbname: 'PGDATABASE',
  user: 'PGUSER',
  password: 'PGPASSWORD',
  passfile: 'PGPASSFILE',
  service: 'PGSERVICE',
  options: 'PGOPTIONS',
  application_name: 'PGAPPNAME',
  client_encoding: 'PGCLIENTENCODING',
  connect_timeout: 'PGCONNECT_TIMEOUT',
  sslmode: 'PGSSLMODE',
  requiressl: 'PGREQUIRESSL',
  sslcert: 'PGSSLCERT',
  sslkey: 'PGSSLKEY',
  sslrootcert: 'PGSSLROOTCERT',
  sslcrl: 'PGSSLCRL',
  sslcrldir: 'PGSSLCRLDIR',
  sslsni: 'PGSSLSNI',
  sslcompression: 'PGSSLCOMPRESSION',
  ssl_min_protocol_version: 'PGSSLMINPROTOCOLVERSION',
  ssl_max_protocol_version: 'PGSSLMAXPROTOCOLVERSION',
  gssencmode: 'PGGSSENCMODE',
  krbsrvname: 'PGKRBSRVNAME',
  gsslib: 'PGGSSLIB',
  channel_binding: 'PGCHANNELBINDING',
  require_auth: 'PGREQUIREAUTH',
  target_session_attrs: 'PGTARGETSESSIONATTRS',
  load_balance_hosts: 'PGLOADBALANCEHOSTS',
  sslnegotiation: 'PGSSLNEGOTIATION',
};

/** A problem with the URL itself. Its message never contains the URL. */
export class DatabaseUrlError extends Error {
  override readonly name = 'DatabaseUrlError';
}

export interface ParsedDatabaseUrl {
  user?: string;
  password?: string;
  /** host[:port] entries as written (multi-host URLs have several). */
  hosts: { host: string; port?: string }[];
  database?: string;
  params: Record<string, string>;
}

const SCHEME = /^postgres(?:ql)?:\/\//i;

function decode(part: string, what: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new DatabaseUrlError(`the ${what} in the URL has a malformed %-escape`);
  }
}

/**
 * Parses a libpq connection URI: postgres[ql]://[user[:password]@][host[:port][,...]][/dbname][?param=value&...].
 * Written by hand because `new URL` rejects multi-host URLs and does not %-decode hosts (Unix socket paths).
 */
export function parseDatabaseUrl(url: string): ParsedDatabaseUrl {
  const scheme = SCHEME.exec(url);
  if (!scheme) {
    const other = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1];
    throw new DatabaseUrlError(`expected a postgres:// or postgresql:// URL${other ? `, not ${other}:` : ''}`);
  }
  let rest = url.slice(scheme[0].length);
  const params: Record<string, string> = {};
  const q = rest.indexOf('?');
  if (q >= 0) {
    for (const pair of rest.slice(q + 1).split('&').filter(Boolean)) {
      const eq = pair.indexOf('=');
      const key = decode(eq >= 0 ? pair.slice(0, eq) : pair, 'parameter name');
      if (!(key in PARAMETER_VARIABLES)) throw new DatabaseUrlError(`unsupported URL parameter "${key.slice(0, 40)}"`);
      params[key] = decode(eq >= 0 ? pair.slice(eq + 1).replace(/\+/g, ' ') : '', `parameter ${key}`);
    }
    rest = rest.slice(0, q);
  }
  const slash = rest.indexOf('/');
  const authority = slash >= 0 ? rest.slice(0, slash) : rest;
  const dbPart = slash >= 0 ? rest.slice(slash + 1) : '';
  // The last "@" ends the user info: a password may (wrongly, but commonly) contain a raw "@".
  const at = authority.lastIndexOf('@');
  const userInfo = at >= 0 ? authority.slice(0, at) : undefined;
  const hostPart = at >= 0 ? authority.slice(at + 1) : authority;
  const parsed: ParsedDatabaseUrl = { hosts: [], params };
  if (userInfo !== undefined) {
    const colon = userInfo.indexOf(':');
    const user = decode(colon >= 0 ? userInfo.slice(0, colon) : userInfo, 'user name');
    if (user) parsed.user = user;
    if (colon >= 0) parsed.password = decode(userInfo.slice(colon + 1), 'password');
  }
  if (hostPart) {
    for (const entry of hostPart.split(',')) {
      const m = /^(\[[^\]]*\]|[^:]*)(?::(.*))?$/.exec(entry);
      if (!m) throw new DatabaseUrlError('the host list in the URL is malformed');
      const rawHost = m[1] ?? '';
      const host = decode(rawHost.startsWith('[') ? rawHost.slice(1, -1) : rawHost, 'host');
      const port = m[2];
      if (port !== undefined && port !== '' && !/^\d{1,5}$/.test(port)) throw new DatabaseUrlError('the port in the URL is not a number');
      parsed.hosts.push(port ? { host, port } : { host });
    }
  }
  const database = decode(dbPart, 'database name');
  if (database) parsed.database = database;
  return parsed;
}

/**
 * The libpq environment that connects to `url`: PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE
 * and one variable per URL parameter (sslmode → PGSSLMODE, ...). Connection variables inherited
 * in `base` are dropped first; other PG* settings (PGPASSFILE, PGSSLROOTCERT, ...) pass through.
 * A connect timeout of 10 s applies unless the URL or `base` sets one.
 */
export function libpqEnv(url: string, base: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const parsed = parseDatabaseUrl(url);
  const env: NodeJS.ProcessEnv = { ...base };
  for (const name of LIBPQ_CONNECTION_VARIABLES) delete env[name];
  if (parsed.hosts.some((h) => h.host)) env.PGHOST = parsed.hosts.map((h) => h.host).join(',');
  if (parsed.hosts.some((h) => h.port)) env.PGPORT = parsed.hosts.map((h) => h.port ?? '').join(',');
  if (parsed.user) env.PGUSER = parsed.user;
  if (parsed.password !== undefined) env.PGPASSWORD = parsed.password;
  if (parsed.database) env.PGDATABASE = parsed.database;
  for (const [key, value] of Object.entries(parsed.params)) env[PARAMETER_VARIABLES[key]!] = value;
  env.PGCONNECT_TIMEOUT ??= '10';
  env.PGAPPNAME ??= 'shipgate';
  return env;
}

/**
 * The URL without its secrets, for every message: the password (in the user info or as a
 * `password` parameter) becomes "***". Anything that does not parse is shown only by scheme.
 */
export function redactUrl(url: string): string {
  let parsed: ParsedDatabaseUrl;
  try {
    parsed = parseDatabaseUrl(url);
  } catch {
    const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1];
    return scheme ? `${scheme}://***` : '***';
  }
  const scheme = (SCHEME.exec(url)?.[0] ?? 'postgres://').toLowerCase();
  const enc = (s: string) => encodeURIComponent(s);
  const user = parsed.user !== undefined || parsed.password !== undefined ? `${enc(parsed.user ?? '')}${parsed.password !== undefined ? ':***' : ''}@` : '';
  const hosts = parsed.hosts.map((h) => `${h.host.includes(':') ? `[${h.host}]` : enc(h.host)}${h.port ? `:${h.port}` : ''}`).join(',');
  const db = parsed.database !== undefined ? `/${enc(parsed.database)}` : '';
  const query = Object.entries(parsed.params)
    .map(([k, v]) => `${k}=${k === 'password' ? '***' : enc(v)}`)
    .join('&');
  return `${scheme}${user}${hosts}${db}${query ? `?${query}` : ''}`;
}

/**
 * Removes the URL and its password from text produced elsewhere (a tool's stderr, a driver's
 * error, a migration's output). Passwords shorter than 4 characters are only removed as part of
 * the URL: replacing every "ab" in a log would make it unreadable without protecting anything.
 */
export function scrubSecret(text: string, url: string): string {
  let out = text;
  const secrets = new Set<string>([url]);
  try {
    const parsed = parseDatabaseUrl(url);
    for (const pw of [parsed.password, parsed.params.password]) {
      if (pw && pw.length >= 4) {
        secrets.add(pw);
        secrets.add(encodeURIComponent(pw));
      }
    }
  } catch {
    /* an unparsable URL is still removed as a whole */
  }
  const redacted = redactUrl(url);
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) {
    if (!secret) continue;
    out = out.split(secret).join(secret === url ? redacted : '***');
  }
  return out;
}
