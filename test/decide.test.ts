// `decide`: the runbook's "rollback or fix forward?" rules, their combination and the doubt
// default, and the CLI (JSON, exit codes) in a directory without a shipgate.yml.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decide, RULES, type DecisionInput } from '../src/core/decide.js';
import { shipgate, type CliResult } from './harness/cli.js';

/** Every fix-forward condition stated, data integrity stated safe. */
const clearFixForward: DecisionInput = {
  affectedShare: 0.05,
  rootCauseKnown: true,
  fixAvailableAndTested: true,
  criticalFeature: false,
  dataIntegrityAtRisk: false,
};

const fired = (input: DecisionInput) => decide(input).rulesFired.map((r) => `${r.rule}:${r.points}`);

describe('seed rules', () => {
  it.each([
    ['affects >50% of users/trades', { affectedShare: 0.51 }, RULES.majorityAffected],
    ['data integrity at risk', { dataIntegrityAtRisk: true }, RULES.dataIntegrity],
    ['unknown root cause', { rootCauseKnown: false }, RULES.rootCauseUnknown],
    ['fix will take >1 hour', { fixEtaMinutes: 61 }, RULES.slowFix],
    ['multiple components affected', { componentsAffected: 2 }, RULES.multipleComponents],
  ])('rollback when %s, even if everything else says fix forward', (_name, rule: DecisionInput, name) => {
    const d = decide({ ...clearFixForward, ...rule, rollbackLosesData: false });
    expect(d).toMatchObject({ recommendation: 'rollback', confident: true, needsPerson: false });
    expect(d.rulesFired).toContainEqual({ rule: name, points: 'rollback' });
    expect(d.explanation).toMatch(/^Rollback: /);
  });

  it.each([
    ['affects <10% of users', { affectedShare: 0.09 }, RULES.fewAffected],
    ['root cause clearly identified', { rootCauseKnown: true }, RULES.rootCauseKnown],
    ['fix available and tested', { fixAvailableAndTested: true }, RULES.fixTested],
    ['rollback would cause data loss', { rollbackLosesData: true }, RULES.rollbackLosesData],
    ['issue isolated to non-critical feature', { criticalFeature: false }, RULES.nonCritical],
  ])('the fix-forward rule "%s" fires', (_name, rule: DecisionInput, name) => {
    expect(decide(rule).rulesFired).toContainEqual({ rule: name, points: 'fix-forward' });
  });

  it('thresholds are strict: exactly 50%, 10%, 60 minutes and one component fire nothing', () => {
    expect(fired({ affectedShare: 0.5 })).not.toContain(`${RULES.majorityAffected}:rollback`);
    expect(fired({ affectedShare: 0.1 })).not.toContain(`${RULES.fewAffected}:fix-forward`);
    expect(fired({ fixEtaMinutes: 60 })).not.toContain(`${RULES.slowFix}:rollback`);
    expect(fired({ componentsAffected: 1 })).not.toContain(`${RULES.multipleComponents}:rollback`);
  });

  it('fixes forward only when every fix-forward condition holds and no rollback rule fires', () => {
    const d = decide(clearFixForward);
    expect(d).toMatchObject({ recommendation: 'fix-forward', confident: true, needsPerson: false, unknowns: [] });
    expect(fired(clearFixForward)).toEqual([`${RULES.fewAffected}:fix-forward`, `${RULES.rootCauseKnown}:fix-forward`, `${RULES.fixTested}:fix-forward`, `${RULES.nonCritical}:fix-forward`]);
    // Fix ETA and component count need not be given (a tested fix is ready; "isolated" is one component)...
    expect(decide({ ...clearFixForward, fixEtaMinutes: 30, componentsAffected: 1 }).recommendation).toBe('fix-forward');
    // ...and rollback losing data is one more reason, not a requirement.
    expect(decide({ ...clearFixForward, rollbackLosesData: true })).toMatchObject({ recommendation: 'fix-forward', confident: true });
    expect(decide({ ...clearFixForward, rollbackLosesData: false })).toMatchObject({ recommendation: 'fix-forward', confident: true });
  });

  it.each([
    ['10-50% affected', { affectedShare: 0.3 }],
    ['a critical feature', { criticalFeature: true }],
    ['no tested fix', { fixAvailableAndTested: false }],
  ])('is in doubt, so rolls back, with one fix-forward condition false: %s', (_name, change: DecisionInput) => {
    const d = decide({ ...clearFixForward, ...change });
    expect(d).toMatchObject({ recommendation: 'rollback', confident: false, needsPerson: false });
    expect(d.rulesFired).toContainEqual({ rule: RULES.doubt, points: 'rollback' });
    expect(d.explanation).toMatch(/^Rollback \(when in doubt\)/);
  });
});

describe('when in doubt: ROLLBACK', () => {
  it('rolls back, not confident, when nothing is known', () => {
    const d = decide({});
    expect(d).toMatchObject({ recommendation: 'rollback', confident: false, needsPerson: false, rulesFired: [{ rule: RULES.doubt, points: 'rollback' }] });
    expect(d.unknowns).toEqual(['--affected', '--root-cause-known', '--fix-tested', '--non-critical', '--data-integrity-at-risk', '--rollback-loses-data']);
  });

  it.each(['affectedShare', 'rootCauseKnown', 'fixAvailableAndTested', 'criticalFeature', 'dataIntegrityAtRisk'] as const)(
    'an unknown %s (left out, not false) is enough doubt to roll back',
    (key) => {
      const input = { ...clearFixForward };
      delete input[key];
      const d = decide(input);
      expect(d).toMatchObject({ recommendation: 'rollback', confident: false });
      expect(d.unknowns.length).toBeGreaterThan(0);
    },
  );

  it('names what would have to be stated to fix forward', () => {
    const { dataIntegrityAtRisk: _d, ...rest } = clearFixForward;
    const d = decide(rest);
    expect(d.unknowns).toContain('--data-integrity-at-risk');
    expect(d.explanation).toContain('--no-data-integrity-at-risk');
  });
});

describe('combinations', () => {
  it('collects every rule that fired, both ways', () => {
    expect(fired({ affectedShare: 0.8, dataIntegrityAtRisk: true, rootCauseKnown: true, componentsAffected: 3, rollbackLosesData: false })).toEqual([
      `${RULES.majorityAffected}:rollback`,
      `${RULES.dataIntegrity}:rollback`,
      `${RULES.multipleComponents}:rollback`,
      `${RULES.rootCauseKnown}:fix-forward`,
    ]);
  });

  it('data integrity at risk while rollback loses data: rollback is not confident and a person must decide', () => {
    const d = decide({ dataIntegrityAtRisk: true, rollbackLosesData: true });
    expect(d).toMatchObject({ recommendation: 'rollback', confident: false, needsPerson: true });
    expect(d.rulesFired).toEqual([
      { rule: RULES.dataIntegrity, points: 'rollback' },
      { rule: RULES.rollbackLosesData, points: 'fix-forward' },
    ]);
    expect(d.explanation).toMatch(/a person must decide/);
    expect(d.explanation).toMatch(/preserve what was written since the deploy/);
  });

  it('doubt while rollback loses data also needs a person', () => {
    expect(decide({ affectedShare: 0.3, rollbackLosesData: true })).toMatchObject({ recommendation: 'rollback', confident: false, needsPerson: true });
  });

  it('a rollback rule with rollback data loss unknown stays confident but says to check', () => {
    const d = decide({ affectedShare: 0.7 });
    expect(d).toMatchObject({ recommendation: 'rollback', confident: true, needsPerson: false, unknowns: ['--rollback-loses-data'] });
    expect(d.explanation).toMatch(/Check that rolling back loses no data/);
  });

  it('a known root cause and a tested fix do not outweigh a slow fix or a majority affected', () => {
    expect(decide({ ...clearFixForward, affectedShare: 0.6 }).recommendation).toBe('rollback');
    expect(decide({ ...clearFixForward, fixEtaMinutes: 120 }).recommendation).toBe('rollback');
  });
});

describe('shipgate decide (CLI)', () => {
  let dir: string;
  const show = (r: CliResult) => `exit ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;
  const run = (args: string[]) => shipgate(['decide', ...args], { cwd: dir });

  beforeAll(() => {
    // No shipgate.yml here or above (tmpdir): decide must not need one.
    dir = mkdtempSync(path.join(os.tmpdir(), 'shipgate-decide-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('recommends fix-forward as JSON when every condition is stated', async () => {
    const r = await run(['--affected', '5%', '--root-cause-known', '--fix-tested', '--non-critical', '--no-data-integrity-at-risk', '--fix-eta', '20m', '--components', '1', '--json']);
    expect(r.code, show(r)).toBe(0);
    expect(r.json()).toMatchObject({
      ok: true,
      recommendation: 'fix-forward',
      confident: true,
      needsPerson: false,
      unknowns: [],
      input: { affectedShare: 0.05, rootCauseKnown: true, fixAvailableAndTested: true, criticalFeature: false, dataIntegrityAtRisk: false, fixEtaMinutes: 20, componentsAffected: 1 },
    });
  });

  it('treats left-out flags as unknown and rolls back (exit 0)', async () => {
    const r = await run(['--json']);
    expect(r.code, show(r)).toBe(0);
    expect(r.json()).toMatchObject({ ok: true, recommendation: 'rollback', confident: false, input: {} });
    expect(r.json().rulesFired).toEqual([{ rule: RULES.doubt, points: 'rollback' }]);
  });

  it('reads shares as fractions or percentages, durations with units, and --no-/--critical', async () => {
    const r = await run(['--affected', '0.6', '--fix-eta', '2h', '--components', '3', '--no-root-cause-known', '--critical', '--rollback-loses-data', '--json']);
    expect(r.code, show(r)).toBe(0);
    const out = r.json();
    expect(out.input).toEqual({ affectedShare: 0.6, fixEtaMinutes: 120, componentsAffected: 3, rootCauseKnown: false, criticalFeature: true, rollbackLosesData: true });
    expect(out).toMatchObject({ recommendation: 'rollback', confident: false, needsPerson: true });
    expect(out.rulesFired.map((f: { rule: string }) => f.rule)).toEqual([RULES.majorityAffected, RULES.rootCauseUnknown, RULES.slowFix, RULES.multipleComponents, RULES.rollbackLosesData]);
  });

  it('prints a human answer without --json', async () => {
    const r = await run(['--data-integrity-at-risk', '--no-rollback-loses-data']);
    expect(r.code, show(r)).toBe(0);
    expect(r.stdout).toMatch(/^ROLLBACK {2}\(confident\)\nRollback: data integrity is at risk\./);
    expect(r.stdout).toContain('rules: data-integrity-at-risk -> rollback');
  });

  it('documents how the rules combine in --help', async () => {
    const r = await run(['--help']);
    expect(r.code, show(r)).toBe(0);
    expect(r.stdout).toContain('When in doubt: ROLLBACK');
    expect(r.stdout).toContain('FIX FORWARD only when all of');
  });

  it.each([
    [['--affected', '150%'], '--affected'],
    [['--affected', '30'], '--affected'],
    [['--affected', 'lots'], '--affected'],
    [['--fix-eta', '45'], '--fix-eta'],
    [['--fix-eta', 'soon'], '--fix-eta'],
    [['--components', '0'], '--components'],
    [['--components', '1.5'], '--components'],
    [['--critical', '--non-critical'], '--critical'],
  ])('exits 2 naming the flag for %j', async (args, flag) => {
    const [r, human] = await Promise.all([run([...args, '--json']), run(args)]);
    expect(r.code, show(r)).toBe(2);
    const { error } = r.json();
    expect(error.exitCode).toBe(2);
    expect(error.where).toBe(flag);
    expect(error.message).toContain(flag);

    expect(human.code, show(human)).toBe(2);
    expect(human.stderr).toContain(flag);
  });

  it('hints at a percentage sign for a bare number above 1', async () => {
    const r = await run(['--affected', '30', '--json']);
    expect(r.json().error.hint).toBe('Did you mean --affected 30%?');
  });

  it('exits 2 on an unknown flag', async () => {
    const r = await run(['--blast-radius', 'big']);
    expect(r.code, show(r)).toBe(2);
  });
});
