import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where shipgate itself is installed, and its version. */
export interface Installation {
  /** The directory holding shipgate's package.json (and data/, demo/, bin/). */
  dir: string;
  version: string;
}

let found: Installation | undefined;

/**
 * The nearest directory above this module that holds shipgate's package.json. A fixed relative
 * path would break when the module moves: it runs from src/adapters/host (tests), from
 * dist/adapters/host (tsc) and from a chunk in dist/bundle (the bundle bin/shipgate prefers).
 */
export function installation(): Installation {
  if (found) return found;
  const start = path.dirname(fileURLToPath(import.meta.url));
  for (let dir = start; ; dir = path.dirname(dir)) {
    const pkg = readPackage(path.join(dir, 'package.json'));
    if (pkg?.name === 'shipgate' && typeof pkg.version === 'string') return (found = { dir, version: pkg.version });
    if (path.dirname(dir) === dir) throw new Error(`shipgate's package.json is not in ${start} or any directory above it: reinstall shipgate`);
  }
}

/** A file inside the installation, e.g. installedFile('data', 'ci-causes.json'). */
export function installedFile(...parts: string[]): string {
  return path.join(installation().dir, ...parts);
}

function readPackage(file: string): { name?: unknown; version?: unknown } | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown; version?: unknown };
  } catch {
    return undefined; // absent or not JSON: not shipgate's, look further up
  }
}
