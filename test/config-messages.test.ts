// `config check` messages an order router's config ran into: a boolean health value, a field of
// another check type, and a union's inner field named instead of "Invalid input".
import { describe, expect, it } from 'vitest';
import { judgeHealth } from '../src/core/health.js';
import { checkConfigText } from '../src/config/load.js';

const config = (router: string, checks = '') => `version: 1
services:
  router:
    command: [./router]
    port: 8300
${router}
environments:
  prod:
    analysis:
      checks:
${checks || "        - { name: rejects, type: error-rate, metric: orders_total, errors: 'outcome=\"rejected\"' }"}
`;

describe('config check messages', () => {
  it('health.status.healthy: [true] is accepted and matches JSON true (and the text "true"), not "false" or "ok"', () => {
    const { config: c, problems } = checkConfigText(config("    health: { url: 'http://127.0.0.1:{port}/health', status: { field: ok, healthy: [true] } }"), 'shipgate.yml');
    expect(problems).toEqual([]);
    const contract = (c!.services.router!.health as { status: { field: string; healthy: (string | number | boolean)[] } });
    expect(contract.status.healthy).toEqual([true]);
    const judge = (body: unknown) => judgeHealth({ status: 200, version: undefined, error: undefined, body }, undefined, contract).healthy;
    expect([judge({ ok: true }), judge({ ok: 'true' }), judge({ ok: false }), judge({ ok: 'ok' }), judge({})]).toEqual([true, true, false, false, false]);
  });

  it('a bad field inside the health contract is named, with its position, not "health: Invalid input"', () => {
    const { problems } = checkConfigText(config("    health: { url: 'http://127.0.0.1:{port}/health', status: { field: ok, healthy: [{ up: 1 }] } }"), 'shipgate.yml');
    expect(problems).toEqual([expect.objectContaining({ path: 'services.router.health.status.healthy.0', line: 6, message: 'expected a string, a number or true or false, got object' })]);
    const missing = checkConfigText(config("    health: { url: 'http://127.0.0.1:{port}/health', status: { healthy: [ok] } }"), 'shipgate.yml').problems;
    expect(missing).toEqual([expect.objectContaining({ path: 'services.router.health.status.field', message: 'missing required field "field"' })]);
  });

  it('a field of another check type names the types it belongs to, not "Did you mean" itself', () => {
    const { problems } = checkConfigText(config('', "        - { name: rejects, type: error-rate, metric: orders_total, errors: 'outcome=\"rejected\"', quantile: 0.99 }"), 'shipgate.yml');
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ path: 'environments.prod.analysis.checks.0.quantile', message: 'field "quantile" does not belong to a check of type error-rate' });
    expect(problems[0]!.hint).toMatch(/^"quantile" belongs to checks of type latency\. Remove it here, or change the type; a error-rate check takes: name, type, metric, errors, select/);
    expect(problems[0]!.hint).not.toMatch(/Did you mean/);
    const equals = checkConfigText(config('', "        - { name: p95, type: latency, metric: order_latency_seconds, equals: 1 }"), 'shipgate.yml').problems;
    expect(equals[0]!.hint).toMatch(/^"equals" belongs to checks of type gauge, http-json, redis, promql\./);
    const typo = checkConfigText(config('', "        - { name: p95, type: latency, metric: order_latency_seconds, quantil: 0.9 }"), 'shipgate.yml').problems;
    expect(typo[0]).toMatchObject({ message: 'unknown field "quantil"', hint: expect.stringMatching(/^Did you mean "quantile"\?/) });
  });
});
