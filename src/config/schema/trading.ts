import { z } from 'zod';
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
  autoKillSwitch: z.boolean().default(false).describe('Let the production monitor engage the kill switch on a catastrophic trigger.'),
});

