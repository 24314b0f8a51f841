// shipgate's own metrics at /metrics (prom-client, its own registry: nothing global is touched).
// Deployments, rollbacks and blind monitors are read from the store at scrape time, so work done
// by any process on the store counts; evaluations and loop timings come from this controller.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { MonitorData, SoakData } from '../app/analysis/watch-data.js';
import type { TickReport } from '../app/controller.js';
import type { Store } from '../adapters/store/store.js';

export interface ApiMetrics {
  registry: Registry;
  observeTick(report: TickReport): void;
}

export function createMetrics(store: Store): ApiMetrics {
  const registry = new Registry();
  new Counter({
    name: 'shipgate_deployments_total', help: 'Finished deployments (deploy, rollback, stop) by environment, kind and outcome, from the store.', labelNames: ['env', 'kind', 'outcome'] as const, registers: [registry],
    async collect() {
      this.reset();
      for (const d of await store.listDeployments({})) if (d.state !== 'running') this.inc({ env: d.env, kind: d.kind, outcome: d.state });
    },
  });
  new Counter({
    name: 'shipgate_rollbacks_total', help: 'Finished rollbacks by environment and outcome, from the store.', labelNames: ['env', 'outcome'] as const, registers: [registry],
    async collect() {
      this.reset();
      for (const d of await store.listDeployments({})) if (d.kind === 'rollback' && d.state !== 'running') this.inc({ env: d.env, outcome: d.state });
    },
  });
  new Gauge({
    name: 'shipgate_blind_monitors', help: 'Running production monitors whose metrics source fails: releases nobody is watching.', labelNames: ['env'] as const, registers: [registry],
    async collect() {
      this.reset();
      const running = await store.listWatches({ kind: 'monitor', state: 'running' });
      for (const env of new Set(running.map((m) => m.env))) this.set({ env }, 0);
      for (const m of running) if ((m.data as MonitorData).blind) this.inc({ env: m.env });
    },
  });
  new Gauge({
    name: 'shipgate_running_watches', help: 'Soaks and monitors running, by kind.', labelNames: ['kind'] as const, registers: [registry],
    async collect() {
      const running = await store.listWatches({ state: 'running' });
      for (const kind of ['soak', 'monitor'] as const) this.set({ kind }, running.filter((w) => w.kind === kind).length);
    },
  });
  new Gauge({
    name: 'shipgate_detection_latency_seconds', help: 'For the newest production monitor that triggered, per environment: from the release going live to the trigger (the store\'s clock).', labelNames: ['env'] as const, registers: [registry],
    async collect() {
      this.reset();
      const seen = new Set<string>();
      for (const m of await store.listWatches({ kind: 'monitor', limit: 200 })) {
        const d = m.data as MonitorData;
        if (seen.has(m.env) || !d.trigger || !d.liveAt) continue;
        seen.add(m.env);
        this.set({ env: m.env }, Math.max(0, Date.parse(d.trigger.at) - Date.parse(d.liveAt)) / 1000);
      }
    },
  });
  const evaluations = new Counter({ name: 'shipgate_gate_evaluations_total', help: 'Check evaluations of soaks and monitors by this controller, by environment, kind and verdict.', labelNames: ['env', 'kind', 'verdict'] as const, registers: [registry] });
  const loop = new Histogram({ name: 'shipgate_controller_loop_duration_seconds', help: 'How long one pass of the controller over every running soak and monitor took.', buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: [registry] });
  const lag = new Histogram({ name: 'shipgate_evaluation_lag_seconds', help: 'From when an evaluation was due to its verdict stored.', buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: [registry] });
  return {
    registry,
    observeTick(report) {
      loop.observe(report.timing.durationMs / 1000);
      for (const ms of report.timing.evaluationLagMs) lag.observe(ms / 1000);
      for (const w of [...report.finished, ...report.running]) {
        for (const r of (w.data as SoakData | MonitorData).latest ?? []) evaluations.inc({ env: w.env, kind: w.kind, verdict: r.verdict });
      }
    },
  };
}
