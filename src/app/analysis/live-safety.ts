import { RedisSafetyStore } from '../../adapters/state/redis-safety.js';
import type { EnvironmentSpec } from '../../config/schema.js';
import { describeFlag, SEED_BREAKER, SEED_KILL_SWITCH, type FlagReading } from '../../core/safety-state.js';
import { readFlags } from '../safety.js';

/** One safety flag as `config check --live` shows it: its key, its value now and what that means. */
export interface LiveSafetyRow {
  name: string;
  type: 'safety';
  status: 'ok' | 'warning' | 'error';
  reads: string;
  value?: string | null;
  meaning?: FlagReading['meaning'];
  note?: string;
  warnings?: string[];
  error?: string;
}

/**
 * The environment's safety keys (trading.breaker / trading.killSwitch, else the seed's) read from its
 * Redis, when it names one: trading ✓; halted ⚠ (deploys wait for it); unknown ✗ (fails closed), naming
 * the configured word lists to fix; a JSON object without the configured `field` ✗, naming its fields.
 * An absent configured key reads as its `missing`, never ✓: ⚠ naming the `key` setting to check (a
 * misspelt key is absent too). The seed's default keys, unset, read as trading (said so). No Redis: no rows.
 */
export async function liveSafetyRows(trading: EnvironmentSpec['trading'], processEnv: NodeJS.ProcessEnv = process.env, env = '<env>'): Promise<LiveSafetyRow[]> {
  if (!trading) return [];
  const specs = { breaker: trading.breaker ?? SEED_BREAKER, killSwitch: trading.killSwitch ?? SEED_KILL_SWITCH };
  const rows = (make: (flag: 'breaker' | 'killSwitch', reads: string) => LiveSafetyRow) =>
    (['breaker', 'killSwitch'] as const).map((flag) => make(flag, `redis ${trading.keyPrefix}${specs[flag].key}${specs[flag].field ? ` field ${specs[flag].field}` : ''}`));
  const url = trading.redisUrlEnv ? processEnv[trading.redisUrlEnv] : trading.redisUrl;
  if (!url) {
    if (!trading.redisUrlEnv) return [];
    return rows((flag, reads) => ({ name: `trading.${flag}`, type: 'safety', status: 'error', reads, error: `${trading.redisUrlEnv} is not set: the safety state cannot be read` }));
  }
  const read = await readFlags(new RedisSafetyStore(url, trading.keyPrefix), specs);
  if (read.kind === 'unavailable') return rows((flag, reads) => ({ name: `trading.${flag}`, type: 'safety', status: 'error', reads, error: `cannot read the safety state: ${read.reason}` }));
  return rows((flag, reads) => {
    const r = read.state[flag];
    const base = { name: `trading.${flag}`, type: 'safety' as const, reads, value: r.value, meaning: r.meaning };
    const at = `environments.${env}.trading.${flag}`;
    const configured = Boolean(trading[flag]);
    if (r.meaning === 'unknown') {
      const fix = configured
        ? `if the platform writes ${JSON.stringify(r.value)} while trading add it to ${at}.trading, if while halted to ${at}.halted; else correct ${at}.key${specs[flag].field ? '/field' : ''}`
        : `the seed's ${specs[flag].key} holds only ${[...specs[flag].trading, ...specs[flag].halted].join(' or ')}: configure ${at} with the platform's key and its words for trading and halted`;
      return { ...base, status: 'error', error: `${r.explanation}: unknown fails closed (deploys are refused); ${fix}` };
    }
    if (r.fieldsSeen) {
      return { ...base, status: 'error', error: `${r.explanation}: it reads as ${r.meaning} until the platform writes that field; set ${at}.field to the field holding the platform's word${r.fieldsSeen.length ? ` (one of ${r.fieldsSeen.join(', ')})` : ''}` };
    }
    const absent = r.value === null && configured ? `; if the platform keeps it under another name, correct ${at}.key` : '';
    if (r.meaning === 'halted') return { ...base, status: 'warning', warnings: [`${describeFlag(r)}: ${r.explanation}; deploys wait until trading resumes${absent}`] };
    if (absent) return { ...base, status: 'warning', warnings: [`${describeFlag(r)}: ${r.explanation}: it reads as trading only because it is absent${absent}`] };
    return { ...base, status: 'ok', note: `${describeFlag(r)}${r.value === null ? `: ${r.explanation}` : ''}` };
  });
}
