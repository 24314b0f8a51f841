/**
 * "Should I rollback or try to fix forward?" — the runbook's rules, made explicit.
 *
 * Rollback when: >50% of users/trades affected; data integrity at risk; unknown root cause;
 * the fix will take more than an hour; several components affected.
 * Fix forward when: <10% of users affected; root cause clearly identified; fix available and
 * tested; rollback would cause data loss; issue isolated to a non-critical feature.
 * When in doubt: ROLLBACK.
 *
 * How they combine (see DECISION_RULES_HELP, shown by `shipgate decide --help`):
 *  1. Any rollback rule that fires on stated facts means rollback.
 *  2. Fix forward only when every fix-forward condition about the issue holds (<10% affected,
 *     root cause identified, fix available and tested, isolated to a non-critical feature),
 *     no rollback rule fires, and data integrity is stated NOT to be at risk. An unstated input
 *     is unknown, never "no": unknowns leave the decision to the doubt rule.
 *  3. Anything else is doubt, and doubt means rollback (not confident).
 *  4. "Rollback would cause data loss" is a cost of rolling back, not evidence that fixing
 *     forward is safe: it counts for fix-forward, but when the answer is still rollback the two
 *     seed rules conflict, and a person must decide (needsPerson).
 */

export interface DecisionInput {
  /** Share of users or trades affected, 0..1. */
  affectedShare?: number;
  dataIntegrityAtRisk?: boolean;
  rootCauseKnown?: boolean;
  fixEtaMinutes?: number;
  componentsAffected?: number;
  fixAvailableAndTested?: boolean;
  rollbackLosesData?: boolean;
  criticalFeature?: boolean;
}

export type Recommendation = 'rollback' | 'fix-forward';

export interface FiredRule {
  rule: string;
  points: Recommendation;
}

export interface Decision {
  recommendation: Recommendation;
  /** False when the doubt rule decided, or when the seed rules conflict. */
  confident: boolean;
  /** The seed rules conflict (rollback loses data yet rollback is recommended): a person decides. */
  needsPerson: boolean;
  rulesFired: FiredRule[];
  /** Inputs that were not given and could have changed the recommendation, as flag names. */
  unknowns: string[];
  explanation: string;
}

/** Rule names, stable for --json consumers. */
export const RULES = {
  majorityAffected: 'affects-over-50%',
  dataIntegrity: 'data-integrity-at-risk',
  rootCauseUnknown: 'root-cause-unknown',
  slowFix: 'fix-takes-over-1h',
  multipleComponents: 'multiple-components-affected',
  fewAffected: 'affects-under-10%',
  rootCauseKnown: 'root-cause-identified',
  fixTested: 'fix-available-and-tested',
  rollbackLosesData: 'rollback-loses-data',
  nonCritical: 'isolated-to-non-critical-feature',
  doubt: 'when-in-doubt-rollback',
} as const;

export function decide(input: DecisionInput): Decision {
  const rollbackRules: string[] = [];
  const fixRules: string[] = [];
  const unknowns: string[] = [];
  const a = input.affectedShare;

  // Rollback rules: fire on stated facts only.
  if (a !== undefined && a > 0.5) rollbackRules.push(RULES.majorityAffected);
  if (input.dataIntegrityAtRisk === true) rollbackRules.push(RULES.dataIntegrity);
  if (input.rootCauseKnown === false) rollbackRules.push(RULES.rootCauseUnknown);
  if (input.fixEtaMinutes !== undefined && input.fixEtaMinutes > 60) rollbackRules.push(RULES.slowFix);
  if (input.componentsAffected !== undefined && input.componentsAffected > 1) rollbackRules.push(RULES.multipleComponents);

  // Fix-forward rules.
  if (a !== undefined && a < 0.1) fixRules.push(RULES.fewAffected);
  if (input.rootCauseKnown === true) fixRules.push(RULES.rootCauseKnown);
  if (input.fixAvailableAndTested === true) fixRules.push(RULES.fixTested);
  if (input.rollbackLosesData === true) fixRules.push(RULES.rollbackLosesData);
  if (input.criticalFeature === false) fixRules.push(RULES.nonCritical);

  const rulesFired: FiredRule[] = [
    ...rollbackRules.map((rule) => ({ rule, points: 'rollback' as const })),
    ...fixRules.map((rule) => ({ rule, points: 'fix-forward' as const })),
  ];
  const losesData = input.rollbackLosesData === true;

  // 1. A rollback rule fired.
  if (rollbackRules.length > 0) {
    const why = `Rollback: ${rollbackRules.map(describe).join('; ')}.`;
    if (losesData) {
      return {
        recommendation: 'rollback',
        confident: false,
        needsPerson: true,
        rulesFired,
        unknowns,
        explanation: `${why} ${conflictText}`,
      };
    }
    const caution = input.rollbackLosesData === undefined ? ' Check that rolling back loses no data first (then say --no-rollback-loses-data); if it would, a person must decide.' : '';
    if (input.rollbackLosesData === undefined) unknowns.push('--rollback-loses-data');
    return { recommendation: 'rollback', confident: true, needsPerson: false, rulesFired, unknowns, explanation: `${why}${caution}` };
  }

  // 2. Fix forward needs every issue condition, and data integrity stated safe.
  const missing: string[] = [];
  if (a === undefined) {
    unknowns.push('--affected');
    missing.push('the share affected is not known (--affected)');
  } else if (a >= 0.1) missing.push(`${pct(a)} affected is not under 10%`);
  if (input.rootCauseKnown === undefined) {
    unknowns.push('--root-cause-known');
    missing.push('the root cause is not stated as identified (--root-cause-known)');
  }
  if (input.fixAvailableAndTested === undefined) {
    unknowns.push('--fix-tested');
    missing.push('no fix is stated as available and tested (--fix-tested)');
  } else if (!input.fixAvailableAndTested) missing.push('no fix is available and tested');
  if (input.criticalFeature === undefined) {
    unknowns.push('--non-critical');
    missing.push('the issue is not stated as isolated to a non-critical feature (--non-critical)');
  } else if (input.criticalFeature) missing.push('the issue affects a critical feature');
  if (input.dataIntegrityAtRisk === undefined) {
    unknowns.push('--data-integrity-at-risk');
    missing.push('data integrity is not stated as safe (--no-data-integrity-at-risk)');
  }

  if (missing.length === 0) {
    const extra = losesData ? ' Rolling back would also lose data.' : '';
    return {
      recommendation: 'fix-forward',
      confident: true,
      needsPerson: false,
      rulesFired,
      unknowns,
      explanation: `Fix forward: ${fixRules.map(describe).join('; ')}; no rollback rule applies and data integrity is not at risk.${extra} Roll back if the fix does not hold.`,
    };
  }

  // 3. Doubt.
  const doubt = `Rollback (when in doubt): no rollback rule applies, but fixing forward needs every fix-forward condition and ${missing.join('; ')}.`;
  rulesFired.push({ rule: RULES.doubt, points: 'rollback' });
  if (losesData) {
    return { recommendation: 'rollback', confident: false, needsPerson: true, rulesFired, unknowns, explanation: `${doubt} ${conflictText}` };
  }
  if (input.rollbackLosesData === undefined) unknowns.push('--rollback-loses-data');
  return { recommendation: 'rollback', confident: false, needsPerson: false, rulesFired, unknowns, explanation: doubt };
}

const conflictText =
  'But rolling back would lose data, which the runbook counts for fixing forward: the rules conflict and a person must decide. ' +
  'If you roll back, first preserve what was written since the deploy (backup or export); consider the kill switch to stop further damage while deciding.';

function describe(rule: string): string {
  switch (rule) {
    case RULES.majorityAffected: return 'more than 50% of users/trades are affected';
    case RULES.dataIntegrity: return 'data integrity is at risk';
    case RULES.rootCauseUnknown: return 'the root cause is unknown';
    case RULES.slowFix: return 'the fix will take more than an hour';
    case RULES.multipleComponents: return 'several components are affected';
    case RULES.fewAffected: return 'fewer than 10% are affected';
    case RULES.rootCauseKnown: return 'the root cause is identified';
    case RULES.fixTested: return 'a fix is available and tested';
    case RULES.rollbackLosesData: return 'rolling back would lose data';
    case RULES.nonCritical: return 'the issue is isolated to a non-critical feature';
    default: return rule;
  }
}

function pct(share: number): string {
  return `${Math.round(share * 1000) / 10}%`;
}

/** Shown after `shipgate decide --help`. */
export const DECISION_RULES_HELP = `
How the answer is reached (runbook: "Should I rollback or try to fix forward?"):
  Rollback rules: >50% of users/trades affected; data integrity at risk; root cause
  unknown (--no-root-cause-known); fix takes more than 1h; more than one component.
  Fix-forward rules: <10% affected; root cause identified; fix available and tested;
  rollback would lose data; issue isolated to a non-critical feature.

  1. Any rollback rule that holds  -> ROLLBACK (confident).
  2. FIX FORWARD only when all of: <10% affected, --root-cause-known, --fix-tested,
     --non-critical, and --no-data-integrity-at-risk, with no rollback rule holding.
  3. Anything else is doubt       -> ROLLBACK (not confident). "When in doubt: ROLLBACK."
  4. --rollback-loses-data is a cost of rolling back, not proof that a fix is safe: when
     the answer is still ROLLBACK, the rules conflict and the result says a person must
     decide (needsPerson); preserve the data written since the deploy before rolling back.

  A flag you leave out is UNKNOWN, not "no": unknowns never count as a fix-forward
  condition. Say "no" explicitly with --no-<flag> (e.g. --no-data-integrity-at-risk);
  --critical is the same as --no-non-critical. Exit 0 whatever the answer; 2 on a bad value.
`;
