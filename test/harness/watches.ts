// Shared by the soak/promotion and controller tests: seconds-long watches, steady order flow,
// CLI calls that must succeed, and a promotion cleared the way people clear it.
import { expect } from 'vitest';
import { runLoad, type LoadSummary } from '../../demo/stack/base/loadgen.mjs';
import type { StackPorts } from '../../src/demo/stack-config.js';
import { scaledSeconds } from './pace.js';
import type { StackWorkspace } from './stack.js';

export function replaceOnce(text: string, from: string, to: string): string {
  if (!text.includes(from)) throw new Error(`the generated shipgate.yml no longer contains ${JSON.stringify(from)}; update the test's patch`);
  return text.replace(from, to);
}

/**
 * Seconds-long soaks and monitors instead of hours (the policy shape stays the real one). A CLI
 * process takes 1-10 s to start on a busy machine (test files run side by side), and `watch` first
 * looks at a soak that long after it began (nobody watched until then: inconclusive). So the
 * default soak (`defaultStandard` on an idle machine) is stretched by the machine's load: at load
 * 17 on 2 cores a 12 s soak was over, 100% inconclusive, before `watch` first looked. All allow
 * 75% inconclusive unless a test says otherwise; a test that gives `standard` gets exactly that.
 */
export function shortWatches(soak: { standard?: string; maxInconclusive?: string } = {}, defaultStandard = '12s') {
  return (yaml: string, ports: Record<string, StackPorts>): string => {
    const standard = soak.standard ?? scaledSeconds(defaultStandard);
    let out = replaceOnce(yaml, '    soak: { maxInconclusive: 10% }', `    soak: { standard: ${standard}, maxInconclusive: ${soak.maxInconclusive ?? '75%'} }`);
    if (ports.production) out = replaceOnce(out, '    monitor: { autoRollback: true, healthGrace: 30s, medium: 72h }', '    monitor: { autoRollback: true, immediate: 1s, short: 2s, medium: 4s, healthGrace: 3s }');
    return out;
  };
}

/** Steady order flow to one gateway until stopped. */
export function load(port: number): { stop(): Promise<LoadSummary> } {
  const ac = new AbortController();
  const done = runLoad({ url: `http://127.0.0.1:${port}`, rps: 50, durationSeconds: 0, signal: ac.signal, timeoutMs: 2000 });
  return {
    stop() {
      ac.abort();
      return done;
    },
  };
}

export async function ok(ws: StackWorkspace, args: string[]): Promise<any> {
  const res = await ws.run(args);
  expect(res.code, `shipgate ${args.join(' ')}\n${res.stdout}\n${res.stderr}`).toBe(0);
  return args.includes('--json') ? res.json() : res.stdout;
}

/**
 * Promotion to production as people clear it (like the demo): attest the checklist items this
 * sample has no CI or GitHub for, run the preflight, ask (a first promote is refused only for the
 * missing approval, which opens the request), have a second person approve, promote.
 */
export async function promoteCleared(ws: StackWorkspace, version: string, args: string[] = ['promote', 'production', '--json']): Promise<any> {
  // Side by side, as several people would; then the preflight that promote reads.
  const attested = await Promise.all(['ci', 'code-reviewed', 'stakeholders-notified', 'migrations-tested'].map((item) => ws.run(['preflight', version, '--env', 'production', '--attest', item, '--by', 'reviewer', '--json'])));
  for (const a of attested) expect(a.code === 0 || a.code === 1, a.stdout + a.stderr).toBe(true);
  const preflight = await ws.run(['preflight', version, '--env', 'production', '--json']);
  expect(preflight.code, preflight.stdout + preflight.stderr).toBe(0);
  expect(preflight.json()).toMatchObject({ version, env: 'production', passed: true });

  const asked = await ws.run(args);
  expect(asked.code, asked.stdout + asked.stderr).toBe(3);
  expect(asked.json().error.checks.filter((c: any) => !c.met).map((c: any) => c.requirement)).toEqual(['approval']);
  const request = (await ok(ws, ['approvals', '--env', 'production', '--json'])).approvals.find((a: any) => a.action === 'promote' && a.subject === version && a.state === 'pending');
  expect(request, `no pending approval request for ${version}`).toBeDefined();
  await ok(ws, ['approve', String(request.id), '--by', 'approver', '--json']);

  return ok(ws, args);
}
