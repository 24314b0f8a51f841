import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import type { ConfigCache } from '../../config/cached-load.js';
import type { ShipgateConfig } from '../../config/schema.js';

/** Entries kept; the least recently written go first. */
export const MAX_ENTRIES = 64;
const FORMAT = 1;

interface Entry {
  format: number;
  /** shipgate's version and the build of the code that checked the text: either changing misses. */
  shipgate: string;
  build: number;
  text: string;
  config: ShipgateConfig;
}

/**
 * Where validated configs are kept: SHIPGATE_CACHE_DIR (empty: keep none), else
 * $XDG_CACHE_HOME/shipgate, else ~/.cache/shipgate. Not the state directory: that is named in the
 * config, which is what the cache saves reading.
 */
export function configCacheDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.SHIPGATE_CACHE_DIR !== undefined) return env.SHIPGATE_CACHE_DIR === '' ? undefined : path.resolve(env.SHIPGATE_CACHE_DIR);
  if (env.XDG_CACHE_HOME) return path.join(env.XDG_CACHE_HOME, 'shipgate');
  const home = os.homedir();
  return home ? path.join(home, '.cache', 'shipgate') : undefined;
}

/**
 * A ConfigCache of one JSON file per text in `dir` (0700; files 0600), named by a hash of the text
 * and the build, holding the text itself: a hit compares the whole text, never just the hash. A
 * cache that cannot be read or written is a miss, never an error: the config is then checked in full.
 */
export function fileConfigCache(dir: string, version: string): ConfigCache {
  const build = buildStamp();
  const fileFor = (text: string) => path.join(dir, `config-${fnv1a(`${version}\0${build}\0${text}`)}.json`);
  return {
    get(text) {
      try {
        const entry = JSON.parse(readFileSync(fileFor(text), 'utf8')) as Partial<Entry>;
        const same = entry.format === FORMAT && entry.shipgate === version && entry.build === build && entry.text === text;
        return same && entry.config ? entry.config : undefined;
      } catch {
        return undefined;
      }
    },
    put(text, config) {
      // Kept only if JSON gives back exactly what the check returned (no undefined, Date, Map...).
      if (!isDeepStrictEqual(JSON.parse(JSON.stringify(config)), config)) return;
      const entry: Entry = { format: FORMAT, shipgate: version, build, text, config };
      const file = fileFor(text);
      const tmp = `${file}.${process.pid}.tmp`;
      try {
        mkdirSync(dir, { recursive: true, mode: 0o700 });
        writeFileSync(tmp, JSON.stringify(entry), { mode: 0o600 });
        renameSync(tmp, file);
        prune(dir);
      } catch {
        rmSync(tmp, { force: true });
      }
    },
  };
}

/** The modification time of this module's file: a rebuild (tsc or the bundle) rewrites it, an install keeps it. */
function buildStamp(): number {
  try {
    return statSync(fileURLToPath(import.meta.url)).mtimeMs;
  } catch {
    return 0;
  }
}

function prune(dir: string): void {
  const entries = readdirSync(dir).filter((f) => /^config-[0-9a-f]+\.json$/.test(f));
  if (entries.length <= MAX_ENTRIES) return;
  const aged = entries.flatMap((f) => {
    try {
      return [{ f, at: statSync(path.join(dir, f)).mtimeMs }];
    } catch {
      return []; // removed by another shipgate meanwhile
    }
  });
  aged.sort((a, b) => a.at - b.at);
  for (const { f } of aged.slice(0, aged.length - MAX_ENTRIES)) rmSync(path.join(dir, f), { force: true });
}

/** Two 32-bit FNV-1a lanes of the UTF-16 code units, as 16 hex digits (a file name, not a proof: hits compare the text). */
function fnv1a(text: string): string {
  let a = 0x811c9dc5;
  let b = 0x050c5d1f;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x01000193) ^ (b >>> 15);
  }
  return (a >>> 0).toString(16).padStart(8, '0') + (b >>> 0).toString(16).padStart(8, '0');
}
