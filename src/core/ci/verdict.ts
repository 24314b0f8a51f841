import type { Category, FailureCategory } from './causes.js';
import type { CauseMatch, LogFacts } from './scanner.js';

/** The answer to "why did CI fail?", with exactly the keys `ci triage --json` promises. */
export interface Triage {
  failedStep: string | null;
  category: Category;
  secondary: Category[];
  firstError: string | null;
  files: string[];
  tests: string[];
  exitCode: number | null;
  tool: string | null;
  reproduce: string | null;
  hints: string[];
}

/**
 * When several causes are present, the one that explains the others wins: a runner that vanished,
 * a job out of time or memory or disk makes every later error a symptom; a dependency that did not
 * install makes imports fail; a hung test makes its test fail. Among code problems the first one
 * printed wins, and a coverage drop only when nothing else failed.
 */
const ROOT_CAUSES: FailureCategory[] = ['runner-lost', 'job-timeout', 'out-of-memory', 'disk-full', 'network-flake', 'dependency-install', 'test-timeout', 'import-error'];
const MAX_FILES = 50;
const MAX_TESTS = 200;

export interface VerdictOptions {
  /** The project's local CI commands (`ci.local`), the reproduce command when the log names none. */
  localCommands?: string[];
}

export function verdict(facts: LogFacts, options: VerdictOptions = {}): Triage {
  const failing = facts.matches.filter((m) => m.cause.role !== 'detail');
  // The failed step is the authority when the log names one: causes seen in steps that passed are noise.
  const inFailedStep = facts.failedStep === null ? [] : failing.filter((m) => m.step === facts.failedStep);
  const pool = inFailedStep.length ? inFailedStep : failing;
  const succeeded = facts.format !== 'plain' && facts.errorMarkers.length === 0;

  const order = uniq(pool.map((m) => m.cause.category));
  const primary = succeeded ? undefined : pickPrimary(order);
  const reproduce = reproduceCommand(facts, options);
  if (!primary) {
    const failedAnyway = facts.exitCode !== null && facts.exitCode !== 0 || facts.errorMarkers.length > 0;
    return {
      failedStep: facts.failedStep,
      category: failedAnyway ? 'unknown' : 'none',
      secondary: [],
      firstError: failedAnyway ? facts.lastLineBeforeFailure ?? facts.errorMarkers[0]?.text ?? null : null,
      files: [],
      tests: [],
      exitCode: facts.exitCode,
      tool: null,
      reproduce: failedAnyway ? reproduce : null,
      hints: failedAnyway ? ['No known cause matched: read the lines above the failure, and add a cause for it under ci.causes in shipgate.yml.'] : [],
    };
  }
  const present = new Set<FailureCategory>(uniq(failing.map((m) => m.cause.category)));
  const secondary = uniq(failing.map((m) => m.cause.category)).filter((c) => c !== primary);
  const relevant = facts.matches.filter((m) => present.has(m.cause.category));
  const primaryMatches = pool.filter((m) => m.cause.category === primary);
  const first = primaryMatches.find((m) => m.cause.role === 'error') ?? primaryMatches[0]!;
  const files = uniq(relevant.flatMap((m) => (m.file ? [m.file] : []))).slice(0, MAX_FILES);
  const tests = uniq(relevant.flatMap((m) => (m.test ? [m.test] : []))).slice(0, MAX_TESTS);
  const hints = uniq(
    [...primaryMatches, ...secondary.map((c) => failing.find((m) => m.cause.category === c)!)]
      .flatMap((m) => (m.cause.hint ? [fillHint(m.cause.hint, files)] : [])),
  );
  return {
    failedStep: facts.failedStep,
    category: primary,
    secondary,
    firstError: first.cause.firstError === 'next-line' ? first.followingText ?? first.text : first.cause.firstError === 'previous-line' ? first.precedingText ?? first.text : first.text,
    files,
    tests,
    exitCode: facts.exitCode,
    tool: first.cause.tool ?? primaryMatches.find((m) => m.cause.tool)?.cause.tool ?? null,
    reproduce,
    hints,
  };
}

function pickPrimary(order: FailureCategory[]): FailureCategory | undefined {
  const root = ROOT_CAUSES.find((c) => order.includes(c));
  if (root) return root;
  return order.find((c) => c !== 'coverage-drop') ?? order[0];
}

function reproduceCommand(facts: LogFacts, options: VerdictOptions): string | null {
  const step = facts.steps.find((s) => s.name === facts.failedStep);
  if (step) {
    const script = step.script.filter((l) => l.trim() !== '');
    if (script.length) return script.join('\n');
    if (step.name.startsWith('Run ')) return step.name.slice(4);
  }
  if (facts.failedStep?.startsWith('Run ')) return facts.failedStep.slice(4);
  return options.localCommands?.length ? options.localCommands.join(' && ') : null;
}

/** `{files}`: the files named by the errors (without line numbers), for a fix command. */
function fillHint(hint: string, files: string[]): string {
  const paths = uniq(files.map((f) => f.replace(/:\d+(:\d+)?$/, '')));
  return hint.replace(/\{files\}/g, paths.length ? paths.map(shellWord).join(' ') : '.');
}

function shellWord(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

function uniq<T>(items: T[]): T[] {
  return [...new Set(items)];
}

export type { CauseMatch };
