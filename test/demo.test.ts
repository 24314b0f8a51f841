import { describe, expect, it } from 'vitest';
import { shipgate, ROOT } from './harness/cli.js';

describe('shipgate demo', () => {
  it('deploys, catches v1.1.0 by its error rate, rolls back to v1.0.0 and stops everything', async () => {
    const res = await shipgate(['demo', '--json'], { cwd: ROOT, timeoutMs: 120_000 });
    expect(res.code, res.stderr).toBe(0);
    const summary = res.json();
    expect(summary.ok).toBe(true);
    expect(summary.deployed).toEqual([
      { env: 'staging', version: 'v1.0.0', ok: true },
      { env: 'production', version: 'v1.0.0', ok: true },
      { env: 'production', version: 'v1.1.0', ok: true },
    ]);
    expect(summary.rolledBack).toMatchObject({ env: 'production', from: 'v1.1.0', to: 'v1.0.0', ok: true });
    const [before, bad, after] = summary.errorRates;
    expect(before).toMatchObject({ version: 'v1.0.0', errors: 0 });
    expect(bad.version).toBe('v1.1.0');
    expect(bad.errorRate).toBeGreaterThan(0.05);
    expect(after).toMatchObject({ version: 'v1.0.0', errors: 0 });
    expect(summary.timeline.map((t: any) => t.action)).toEqual(['deploy.start', 'deploy.finish', 'deploy.start', 'deploy.finish', 'deploy.start', 'deploy.finish', 'rollback.start', 'rollback.finish']);
    expect(summary.auditVerified).toBe(true);
    expect(summary.stopped).toBe(true);
  });
});
