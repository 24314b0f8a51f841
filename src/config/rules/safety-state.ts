import { specProblems } from '../../core/safety-state.js';
import type { ConfigRule, RuleFinding } from './rule.js';

const SECRET_HEADER = /authorization|token|secret|api-?key|cookie|password/i;

/**
 * Safety state and platform endpoints that cannot work: a word that would mean both trading and
 * halted, and a secret-looking header written into the file instead of read from a variable.
 */
export const safetyStateRule: ConfigRule = ({ config }) => {
  const out: RuleFinding[] = [];
  for (const [env, spec] of Object.entries(config.environments)) {
    const trading = spec.trading;
    for (const flag of ['breaker', 'killSwitch'] as const) {
      const f = trading?.[flag];
      if (!f) continue;
      for (const p of specProblems(f)) {
        out.push({ path: ['environments', env, 'trading', flag, p.list, p.index], message: `${p.message}: shipgate could not tell whether trading is halted`, hint: 'Each word belongs in one list; a word in neither is read as unknown, which halts deploys.' });
      }
    }
    const reset = trading?.breakerReset;
    const checked = [reset?.maxDrawdown !== undefined && reset.drawdownUrl, trading?.broker, reset?.marketDataUrl, trading?.reconciliation].filter(Boolean).length;
    if (trading && checked === 0) {
      out.push({
        path: ['environments', env, 'trading'], at: 'key', severity: 'warning',
        message: `a breaker reset in ${env} would check none of its preconditions (drawdown, broker API, market data, reconciliation): two people's approval is all that stands before trading resumes`,
        hint: 'Set trading.breakerReset (maxDrawdown + drawdownUrl, marketDataUrl), trading.broker and trading.reconciliation; `shipgate breaker preconditions --env ' + env + '` shows what a reset would check.',
      });
    }
    const headerSets: [(string | number)[], Record<string, unknown> | undefined][] = [
      ...Object.entries(trading?.actions ?? {}).map(([name, a]) => [['environments', env, 'trading', 'actions', name, 'headers'], a?.headers] as [(string | number)[], Record<string, unknown> | undefined]),
      ...(spec.analysis?.checks ?? []).map((c, i) => [['environments', env, 'analysis', 'checks', i, 'headers'], c.type === 'http-json' ? c.headers : undefined] as [(string | number)[], Record<string, unknown> | undefined]),
    ];
    for (const [path, headers] of headerSets) {
      for (const [name, value] of Object.entries(headers ?? {})) {
        if (typeof value === 'string' && SECRET_HEADER.test(name)) {
          out.push({ path: [...path, name], message: `header ${name} is written in the file; its value is a secret`, hint: `Read it from a variable: ${name}: { env: PLATFORM_TOKEN, prefix: "Bearer " }.` });
        }
      }
    }
  }
  return out;
};
