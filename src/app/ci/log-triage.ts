import { open, readFile } from 'node:fs/promises';
import type { ShipgateConfig } from '../../config/schema.js';
import type { Cause } from '../../core/ci/causes.js';
import { flakyTests } from '../../core/ci/flaky.js';
import { parseJUnit, type JUnitCase } from '../../core/ci/junit.js';
import { LogScanner, type LogFacts } from '../../core/ci/scanner.js';
import { verdict, type Triage } from '../../core/ci/verdict.js';
import { isoNow } from '../../core/clock.js';
import { badInput } from '../../core/errors.js';
import type { Store, TestOutcomeRecord } from '../../adapters/store/store.js';
import type { AppContext } from '../context.js';
import { loadCauses } from './knowledge.js';

export interface TriageInputs {
  causes: Cause[];
  localCommands: string[];
}

export function triageInputs(config: ShipgateConfig | null): TriageInputs {
  return { causes: loadCauses(config), localCommands: (config?.ci?.local ?? []).map((c) => c.command.join(' ')) };
}

/** Reads a log stream chunk by chunk (flat memory) and returns the facts a verdict is built from. */
export async function scanLog(chunks: AsyncIterable<Uint8Array | string>, causes: Cause[]): Promise<LogFacts> {
  const scanner = new LogScanner(causes);
  for await (const chunk of chunks) scanner.push(typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
  return scanner.end();
}

/** Bytes per read of a log file. */
const READ_CHUNK = 1024 * 1024;

export function openLog(file: string): AsyncIterable<Uint8Array | string> {
  if (file === '-') return process.stdin;
  return (async function* () {
    let handle: Awaited<ReturnType<typeof open>>;
    try {
      handle = await open(file, 'r');
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      throw badInput(`cannot read the log: ${e.code === 'ENOENT' ? 'no such file' : e.message}`, { where: file, hint: 'Give a saved job log (gh run view <id> --log-failed > ci.log) or - for standard input.' });
    }
    // Two buffers, reused in turn: memory stays flat however long the log (the scanner copies what it keeps),
    // and the next read (in libuv's thread pool) runs while the scanner reads the previous buffer.
    const bufs = [Buffer.allocUnsafe(READ_CHUNK), Buffer.allocUnsafe(READ_CHUNK)] as const;
    let next: Promise<{ bytesRead: number }> | null = handle.read(bufs[0], 0, READ_CHUNK, null);
    try {
      for (let n = 0; ; n++) {
        const { bytesRead } = await next;
        next = null;
        if (bytesRead === 0) break;
        const buf = bufs[n % 2]!;
        next = handle.read(bufs[(n + 1) % 2]!, 0, READ_CHUNK, null);
        yield buf.subarray(0, bytesRead);
      }
    } finally {
      await next?.catch(() => undefined); // a read still running when the consumer stops writes into a buffer no one reads
      await handle.close();
    }
  })();
}

export async function readJUnit(files: string[]): Promise<{ file: string; cases: JUnitCase[] }[]> {
  const out: { file: string; cases: JUnitCase[] }[] = [];
  for (const file of files) {
    let xml: string;
    try {
      xml = await readFile(file, 'utf8');
    } catch (err) {
      throw badInput(`cannot read the JUnit report: ${(err as Error).message}`, { where: file, hint: 'Give the XML file your test runner wrote (pytest --junitxml=FILE, vitest --reporter=junit).' });
    }
    try {
      out.push({ file, cases: parseJUnit(xml) });
    } catch (err) {
      throw badInput(`${(err as Error).message}`, { where: file, hint: 'Give a JUnit XML report.' });
    }
  }
  return out;
}

/** The verdict plus JUnit evidence: failing tests the log did not name, and a category when the log had none. */
export function triageWithJUnit(facts: LogFacts, junit: { file: string; cases: JUnitCase[] }[], inputs: TriageInputs): Triage {
  const t = verdict(facts, { localCommands: inputs.localCommands });
  const failed = junit.flatMap((j) => j.cases.filter((c) => c.outcome === 'failed'));
  if (!failed.length) return t;
  const tests = [...new Set([...t.tests, ...failed.map((c) => c.test)])];
  if (t.category === 'none' || t.category === 'unknown') {
    return { ...t, category: 'test-failure', secondary: t.secondary, firstError: failed[0]!.message ?? t.firstError, tests, tool: t.tool ?? 'junit', reproduce: t.reproduce ?? (inputs.localCommands.join(' && ') || null) };
  }
  return { ...t, tests };
}

/** Every test outcome a triage saw, for the store. */
export function outcomes(triage: Triage, facts: LogFacts | null, junit: { file: string; cases: JUnitCase[] }[], commit: string, source: string, at: string): TestOutcomeRecord[] {
  const rows = new Map<string, TestOutcomeRecord>();
  const add = (test: string, outcome: 'passed' | 'failed', src: string) => rows.set(`${test}\u0000${src}`, { commit, test, outcome, source: src, recordedAt: at });
  for (const test of facts?.passedTests ?? []) add(test, 'passed', source);
  for (const test of triage.tests) add(test, 'failed', source);
  for (const j of junit) for (const c of j.cases) if (c.outcome !== 'skipped') add(c.test, c.outcome, `junit ${j.file}`);
  return [...rows.values()];
}

/** A failing run whose only failing tests are known flaky is `flaky`, with the tests named. */
export async function markFlaky(store: Store, triage: Triage): Promise<Triage> {
  if (!['test-failure', 'test-timeout'].includes(triage.category) || triage.tests.length === 0) return triage;
  const known = flakyTests(await store.countTestOutcomes({ tests: triage.tests }));
  const flaky = new Set(known.map((f) => f.test));
  if (!triage.tests.every((t) => flaky.has(t))) return triage;
  const named = known.map((f) => `${f.test} (passed ${f.passed}, failed ${f.failed} on the same commit${f.commits.length > 1 ? 's' : ''})`).join('; ');
  return {
    ...triage,
    category: 'flaky',
    secondary: [triage.category, ...triage.secondary.filter((c) => c !== triage.category)],
    hints: [`Known flaky: ${named}. Re-run the failed jobs (shipgate ci rerun <run-id> --failed) and fix the test's dependence on order, time or shared state.`, ...triage.hints],
  };
}

export interface LogTriageOptions {
  junit: string[];
  commit?: string | undefined;
}

/** `ci triage --log`: with a project, JUnit and log outcomes are kept (when --commit names the commit) and known flaky tests recognised. */
export async function triageLogWithProject(ctx: AppContext | null, chunks: AsyncIterable<Uint8Array | string>, options: LogTriageOptions): Promise<Triage> {
  const inputs = triageInputs(ctx?.config ?? null);
  const junit = await readJUnit(options.junit);
  const facts = await scanLog(chunks, inputs.causes);
  // An empty log is no evidence: "none" (nothing failed) would read a missing log as a passing run.
  if (facts.lines === 0 && junit.length === 0) {
    throw badInput('the log is empty: there is nothing to triage', {
      where: '--log',
      hint: 'Save the failed job\'s log first (gh run view <id> --log-failed > ci.log), or pipe the command\'s output with 2>&1 into --log -.',
    });
  }
  let triage = triageWithJUnit(facts, junit, inputs);
  if (!ctx) return triage;
  if (options.commit) {
    const commit = await ctx.repo.resolve(options.commit).catch(() => options.commit!);
    await ctx.store.recordTestOutcomes(outcomes(triage, facts, junit, commit, 'log', isoNow(ctx.clock)));
  }
  triage = await markFlaky(ctx.store, triage);
  return triage;
}
