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
 * loadConfig, with the YAML parse, schema and rules skipped when the cache holds this exact text
 * (and, for compose and ssh targets, the exact text of the compose files the rules read):
 * a command then loads neither the YAML parser nor the schema library. Any change to the file
 * (one byte) misses the cache and checks the file in full, with the same errors as loadConfig.
 */
export async function loadConfigCached(explicit: string | undefined, cwd: string, cache: ConfigCache | undefined): Promise<LoadedConfig> {
  const file = locateConfig(explicit, cwd);
  const dir = path.dirname(file);
  const text = readConfigFile(file);
  const kept = cache?.get(text);
  const { checkInputs, checkReadsOnlyTheConfig, keyWithInputs } = await import('./check-inputs.js');
  if (kept && checkReadsOnlyTheConfig(kept)) return { file, dir, config: kept };
  // A config whose check reads compose files is kept a second time with those files' text: a hit
  // needs both, so an edit of a compose file is checked in full as an edit of shipgate.yml is.
  const inputs = kept ? checkInputs(kept, dir) : undefined;
  const keptWithInputs = inputs ? cache?.get(keyWithInputs(text, inputs)) : undefined;
  if (keptWithInputs) return { file, dir, config: keptWithInputs };
  const { configFromText } = await import('./load.js');
  const loaded = configFromText(text, file);
  if (!cache) return loaded;
  if (checkReadsOnlyTheConfig(loaded.config)) {
    cache.put(text, loaded.config);
  } else {
    const read = checkInputs(loaded.config, dir);
    if (read) {
      cache.put(text, loaded.config);
      cache.put(keyWithInputs(text, read), loaded.config);
    }
  }
  return loaded;
}
