import { describe, expect, it } from 'vitest';
import { shipgate, ROOT } from './harness/cli.js';

describe('shipgate demo', () => {
  it('soaks and promotes v1.0.0, catches v1.1.0 in staging, and rolls v1.2.0 back from production on its own', async () => {
    const res = await shipgate(['demo', '--json'], { cwd: ROOT, timeoutMs: 240_000 });
    expect(res.code, res.stderr).toBe(0);
    const summary = res.json();
    expect(summary.ok).toBe(true);
    expect(summary.deployed.map((d: any) => `${d.kind} ${d.env} ${d.version} ${d.ok}`)).toEqual([
      'deploy staging v1.0.0 true',
      'deploy production v1.0.0 true',
      'deploy staging v1.1.0 true',
      'deploy staging v1.2.0 true',
      'deploy production v1.2.0 true',
    ]);
    expect(summary.soaks.map((s: any) => s.state)).toEqual(['passed', 'failed', 'passed']);
    expect(summary.stagingCatch).toMatchObject({ version: 'v1.1.0', soak: { state: 'failed', failedGate: 'error-rate' }, promotion: { refused: true, exitCode: 3 } });
    expect(summary.stagingCatch.promotion.reasons.join(' ')).toContain('error-rate');

    const r = summary.regression;
    expect(r).toMatchObject({ version: 'v1.2.0', trigger: 'error-rate', rolledBackTo: 'v1.0.0' });
    expect(r.evidence.errors).toBeGreaterThan(0);
    expect(r.evidence.llr).toBeGreaterThanOrEqual(r.evidence.upper);
    expect(r.detectedAfterSeconds).toBeGreaterThan(0);
    expect(r.restoredAfterSeconds).toBeGreaterThanOrEqual(r.detectedAfterSeconds);
    expect(r.incidentId).toBeGreaterThan(0);

    const actions = summary.timeline.map((t: any) => `${t.action} ${t.env} ${t.version}`);
    expect(actions).toContain('promote.refused production v1.1.0');
    expect(actions).toContain('monitor.trigger production v1.2.0');
    expect(actions).toContain('rollback.finish production v1.0.0');
    expect(actions).toContain('incident.open production v1.2.0');
    expect(summary.incidentReport.markdown).toContain('## What went wrong');
    expect(summary.incidentReport.markdown).toContain('## Timeline');
    expect(summary.incidentReport.file).toMatch(/docs\/INCIDENTS\/\d{4}-\d{2}-\d{2}-production-v1-2-0-error-rate\.md$/);
    const events = summary.notifications.map((n: any) => `${n.channel} ${n.event}`);
    for (const e of ['rollback.started', 'rollback.finished', 'incident.opened', 'promotion.refused', 'soak.failed']) {
      expect(events).toContain(`slack ${e}`);
      expect(events).toContain(`webhook ${e}`);
    }
    // Grafana's annotations API received the deploy, the soak verdicts and the rollback, with the token.
    const grafana = summary.notifications.filter((n: any) => n.channel === 'grafana');
    expect(grafana.filter((n: any) => n.unauthorized)).toEqual([]);
    for (const e of ['deploy.started', 'deploy.succeeded', 'soak.passed', 'soak.failed', 'rollback.started', 'rollback.finished']) {
      expect(events).toContain(`grafana ${e}`);
    }
    expect(grafana.find((n: any) => n.event === 'rollback.finished').text).toMatch(/env:production, version:v1\.0\.0/);
    expect(summary.killSwitchDrill).toMatchObject({
      killSwitch: { ok: true, openLeft: 0 },
      afterKill: { breaker: 'TRIPPED', killswitch: true, openOrders: 0 },
      afterReset: { breaker: 'OPEN', killswitch: false },
      approvedBy: ['risk-officer', 'demo-oncall'],
    });
    expect(summary.killSwitchDrill.ordersPlaced).toBe(20);
    expect(summary.auditVerified).toBe(true);
    expect(summary.stopped).toBe(true);
  });
});
