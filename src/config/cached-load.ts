import path from 'node:path';
import type { LoadedConfig } from './load.js';
import { locateConfig, readConfigFile } from './locate.js';
import type { ShipgateConfig } from './schema.js';

/**
 * Validated configs kept between runs, by the exact text they were checked from (the port; the
 * file-system cache is adapters/host/config-cache.ts). Only a config whose check reads nothing but
 * its own text is kept, so the same text always checks the same way.
 */
export interface ConfigCache {
  /** The config checked from exactly this text by this build of shipgate, if kept. */
  get(text: string): ShipgateConfig | undefined;
  /** Keeps a config that passed its check; a cache that cannot keep it keeps nothing. */
  put(text: string, config: ShipgateConfig): void;
}

/**
 * loadConfig, with the YAML parse, schema and rules skipped when the cache holds this exact text:
 * a command then loads neither the YAML parser nor the schema library. Any change to the file
 * (one byte) misses the cache and checks the file in full, with the same errors as loadConfig.
 */
export async function loadConfigCached(explicit: string | undefined, cwd: string, cache: ConfigCache | undefined): Promise<LoadedConfig> {
  const file = locateConfig(explicit, cwd);
  const text = readConfigFile(file);
  const kept = cache?.get(text);
  if (kept) return { file, dir: path.dirname(file), config: kept };
  const [{ configFromText }, { checkReadsOnlyTheConfig }] = await Promise.all([import('./load.js'), import('./rules/compose-files.js')]);
  const loaded = configFromText(text, file);
  if (cache && checkReadsOnlyTheConfig(loaded.config)) cache.put(text, loaded.config);
  return loaded;
}
