/**
 * The seed's CI failure table (ops workflow §3) as rules over what GitHub says about a failed
 * job: its name, its failed steps and their conclusion. First matching rule wins; order matters
 * (a step named "Run mypy" is a type error even though it also runs in a test job).
 */
export type FailureType = 'timeout' | 'type-errors' | 'lint-errors' | 'import-errors' | 'coverage-drop' | 'test-failures' | 'unknown';

export interface Triage {
  type: FailureType;
  likelyCause: string;
  fix: string;
}

const RULES: { type: FailureType; match: RegExp; likelyCause: string; fix: string }[] = [
  { type: 'timeout', match: /\btimed?[_ -]?out\b|\btimeout\b/i, likelyCause: 'slow tests, infinite loops', fix: 'optimize tests, check for deadlocks; re-run once to rule out a slow runner' },
  { type: 'type-errors', match: /\b(mypy|pyright|tsc|type[ -]?check(ing)?|typecheck)\b/i, likelyCause: 'missing type hints, incorrect types (CI may run stricter than local, e.g. mypy --strict)', fix: 'add or fix type annotations; run the same checker with the CI flags locally' },
  { type: 'lint-errors', match: /\b(ruff|lint|eslint|flake8|black|fmt|format|prettier)\b/i, likelyCause: 'code style, unused imports', fix: 'run the formatter (e.g. make fmt) and fix what the linter reports' },
  { type: 'import-errors', match: /\b(import|install|dependenc(y|ies)|requirements|poetry|pip|npm ci|module)\b/i, likelyCause: 'missing dependencies, wrong paths', fix: 'check the dependency manifest (pyproject.toml, package.json) and the import paths' },
  { type: 'coverage-drop', match: /\bcoverage\b/i, likelyCause: 'new code without tests', fix: 'add tests for the uncovered code' },
  { type: 'test-failures', match: /\b(test|tests|pytest|vitest|jest|spec|e2e|smoke)\b/i, likelyCause: 'broken or flaky tests (order dependence, missing cleanup, time zones, races)', fix: 'reproduce locally (random order, repeated runs), fix the test or the code' },
];

export function triageJob(job: { name: string; conclusion: string; failedSteps: { name: string; conclusion: string }[] }): Triage {
  if (job.conclusion === 'timed_out' || job.failedSteps.some((s) => s.conclusion === 'timed_out')) return pick('timeout');
  const texts = [...job.failedSteps.map((s) => s.name), job.name];
  for (const text of texts) {
    const rule = RULES.find((r) => r.match.test(text));
    if (rule) return { type: rule.type, likelyCause: rule.likelyCause, fix: rule.fix };
  }
  return { type: 'unknown', likelyCause: 'not recognised from the job and step names', fix: 'read the failed log: gh run view <run-id> --log-failed' };
}

function pick(type: FailureType): Triage {
  const rule = RULES.find((r) => r.type === type)!;
  return { type, likelyCause: rule.likelyCause, fix: rule.fix };
}
