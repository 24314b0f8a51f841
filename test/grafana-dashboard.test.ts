// docs/grafana/shipgate.json is a Grafana dashboard model for shipgate's own /metrics: every panel
// has Prometheus targets, and every metric an expression names is one src/server/metrics.ts exports.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Store } from '../src/adapters/store/store.js';
import { createMetrics } from '../src/server/metrics.js';
import { ROOT } from './harness/cli.js';

interface Target { refId: string; expr: string; datasource: { type: string } }
interface Panel { id: number; title: string; type: string; gridPos: { x: number; y: number; w: number; h: number }; datasource: { type: string }; targets: Target[] }
interface Dashboard { uid: string; title: string; schemaVersion: number; panels: Panel[]; templating: { list: { name: string; query: string }[] } }

const dashboard = JSON.parse(readFileSync(path.join(ROOT, 'docs', 'grafana', 'shipgate.json'), 'utf8')) as Dashboard;

/** The series names the server exposes: each metric, and a histogram's _bucket, _sum and _count. */
function exported(): Set<string> {
  // The collectors read the store only when scraped; listing the registry's metrics scrapes nothing.
  const { registry } = createMetrics({} as Store);
  const names = new Set<string>();
  for (const m of registry.getMetricsAsArray()) {
    const { name, type } = m as unknown as { name: string; type: string };
    names.add(name);
    if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(`${name}${s}`);
  }
  return names;
}

const metricNames = (expr: string) => [...expr.matchAll(/\bshipgate_[a-z0-9_]+/g)].map((m) => m[0]);

describe('the Grafana dashboard for shipgate\'s metrics', () => {
  it('is a dashboard model whose panels have Prometheus targets with unique ids and positions', () => {
    expect(dashboard.uid).toBe('shipgate');
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(dashboard.panels.length).toBeGreaterThanOrEqual(6);
    expect(new Set(dashboard.panels.map((p) => p.id)).size).toBe(dashboard.panels.length);
    for (const p of dashboard.panels) {
      expect(p.datasource.type, p.title).toBe('prometheus');
      expect(p.targets.length, p.title).toBeGreaterThan(0);
      expect(p.gridPos.w, p.title).toBeGreaterThan(0);
      expect(p.gridPos.x + p.gridPos.w, p.title).toBeLessThanOrEqual(24);
      for (const t of p.targets) expect(t.datasource.type, `${p.title} ${t.refId}`).toBe('prometheus');
    }
  });

  it('names only metrics the server exports, and shows every one of them', () => {
    const names = exported();
    expect(names.has('shipgate_deployments_total')).toBe(true);
    const used = new Set<string>();
    const exprs = [...dashboard.panels.flatMap((p) => p.targets.map((t) => ({ where: `${p.title} ${t.refId}`, expr: t.expr }))), ...dashboard.templating.list.map((v) => ({ where: `variable ${v.name}`, expr: v.query }))];
    for (const { where, expr } of exprs) {
      const inExpr = metricNames(expr);
      expect(inExpr.length, `${where}: ${expr} names no shipgate metric`).toBeGreaterThan(0);
      for (const n of inExpr) {
        expect(names.has(n), `${where}: ${n} is not exported by src/server/metrics.ts`).toBe(true);
        used.add(n.replace(/_(bucket|sum|count)$/, ''));
      }
    }
    const bases = [...names].filter((n) => !/_(bucket|sum|count)$/.test(n) || !names.has(n.replace(/_(bucket|sum|count)$/, '')));
    expect(bases.filter((n) => !used.has(n)), 'metrics without a panel').toEqual([]);
  });
});
