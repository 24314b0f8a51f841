import { z } from 'zod';
import { httpAction } from './http.js';
import { duration, secretRef } from './primitives.js';

export const brokerSpec = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('alpaca'),
    mode: z.enum(['paper', 'live']).default('paper'),
    baseUrl: z.string().url().optional().describe('Override of the Alpaca API base URL (tests).'),
    keyIdEnv: secretRef.default('APCA_API_KEY_ID'),
    secretKeyEnv: secretRef.default('APCA_API_SECRET_KEY'),
  }),
  z.strictObject({ type: z.literal('paper'), url: z.string().url().describe('The sample stack\'s paper broker (execution_gateway).') }),
]);

const stateWords = z.array(z.string().min(1)).min(1);

/** One flag of the platform's safety state (docs: README "Safety state"). Unknown and, by default, missing fail closed. */
export const safetyFlag = z.strictObject({
  key: z.string().min(1).describe('Redis key (after trading.keyPrefix).'),
  field: z.string().min(1).optional().describe('Field of the JSON object stored at key; without it the key holds a plain string.'),
  trading: stateWords.describe('The platform\'s words for "trading normally"; the first is what shipgate writes to release.'),
  halted: stateWords.describe('The platform\'s words for "halted"; the first is what shipgate writes to halt.'),
  missing: z.enum(['halted', 'trading']).default('halted').describe('What an absent key (or field) means.'),
  reasonField: z.string().min(1).optional().describe('Where shipgate writes the reason (a field with `field`, else a key).'),
  atField: z.string().min(1).optional().describe('Where shipgate writes the time of the change.'),
  byField: z.string().min(1).optional().describe('Where shipgate writes who made the change.'),
  history: z.string().min(1).optional().describe('A Redis list each change is appended to, as one JSON entry.'),
});

export const tradingSpec = z.strictObject({
  redisUrl: z.string().optional().describe('Redis holding cb:state and killswitch:active (no password here; use redisUrlEnv for one).'),
  redisUrlEnv: secretRef.optional().describe('Variable holding the Redis URL.'),
  keyPrefix: z.string().default('').describe('Prefix of the safety keys, so staging and production never share them (e.g. "prod:").'),
  broker: brokerSpec.optional(),
  cancelTimeout: duration.default(30_000).describe('How long the kill switch waits for open orders to be gone.'),
  reconciliation: z
    .strictObject({
      positionsUrl: z.string().url().optional().describe('Platform positions as JSON [{symbol, qty}].'),
      positionsQuery: z.string().optional().describe('SQL returning symbol, qty (against database.urlEnv).'),
      tolerance: z.number().min(0).default(0).describe('Allowed |platform - broker| per symbol.'),
    })
    .optional(),
  breakerReset: z
    .strictObject({
      maxDrawdown: z.number().optional().describe('Drawdown must be back under this (gauge drawdownMetric).'),
      drawdownUrl: z.string().url().optional().describe('Metrics URL with the drawdown gauge.'),
      drawdownMetric: z.string().default('drawdown_ratio'),
      marketDataUrl: z.string().url().optional().describe('Metrics URL with the market-data freshness gauge.'),
      marketDataMetric: z.string().default('market_data_last_update_timestamp_seconds'),
      maxStaleness: duration.default(10_000),
    })
    .default({ drawdownMetric: 'drawdown_ratio', marketDataMetric: 'market_data_last_update_timestamp_seconds', maxStaleness: 10_000 }),
  breaker: safetyFlag.optional().describe('The circuit breaker\'s key and words (default: the seed\'s cb:state OPEN/TRIPPED, absent = OPEN).'),
  killSwitch: safetyFlag.optional().describe('The kill switch\'s key and words (default: the seed\'s killswitch:active false/true, absent = off).'),
  actions: z
    .strictObject({
      engageKillSwitch: httpAction.optional(),
      disengageKillSwitch: httpAction.optional(),
      tripBreaker: httpAction.optional(),
      resetBreaker: httpAction.optional(),
      cancelAll: httpAction.optional(),
    })
    .optional()
    .describe('The platform\'s own runbook endpoints; shipgate calls them first and then verifies the state itself.'),
  autoKillSwitch: z.boolean().default(false).describe('Let the production monitor engage the kill switch on a catastrophic trigger.'),
});

