// CI triage over REAL tool output: every tool below runs here on a small broken project; what it
// printed is wrapped into the three log shapes (raw GitHub job log, gh run view --log-failed, plain
// terminal output) and triaged. Nothing a tool prints is typed by hand. GitHub's own runner messages
// (job timeout, runner shutdown, exit code lines) are the documented texts, since no runner runs here.
import { execFileSync, spawn as spawnProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { triageLogWithProject } from '../src/app/ci-triage.js';
import type { Triage } from '../src/core/ci/verdict.js';
import { FakeGitHub, type FakeJob } from './fakes/github.js';
import { BIN, ROOT, shipgate } from './harness/cli.js';
import { stackWorkspace, type StackWorkspace } from './harness/stack.js';
import { asGhLogFailed, asGithubLog, capture, debianTool, emptyRegistry, linkProjectModules, npmPack, npmToolBin, pipToolBin, writeTree, type Capture } from './harness/ci-tools.js';

const PY = {
  'shop/__init__.py': '',
  'shop/tags.py': 'import os\n\n\ndef export(tags: list[str]) -> str:\n    count: int = "many"\n    return ",".join(sorted(tags))\n',
  'shop/ugly.py': 'x = {  "a":1 }\n',
  'shop/clean.py': 'def clean() -> int:\n    return 1\n',
  'tests/test_tags.py': 'from shop.tags import export\n\n\ndef test_export():\n    assert export(["b", "a"]) == "a;b"\n\n\ndef test_empty():\n    print("ERROR: connection refused (retrying, expected in this test)")\n    assert export([]) == ""\n',
  'slow/test_fill.py': 'import time\n\n\ndef test_waits_for_fill():\n    time.sleep(30)\n',
  'broken/test_imports.py': 'from shop.missing import thing\n\n\ndef test_thing():\n    assert thing\n',
  'cov/test_clean.py': 'from shop.clean import clean\n\n\ndef test_clean():\n    assert clean() == 1\n',
  'noisy/test_noisy.py': 'import sys\n\n\ndef test_logs_errors():\n    print("E   AssertionError: this is only a log line", file=sys.stderr)\n    print("error: something went wrong (handled)")\n    assert True\n',
};

const JS = {
  'tsconfig.json': '{"compilerOptions":{"strict":true,"noEmit":true,"target":"ES2022","module":"ESNext","moduleResolution":"Bundler","skipLibCheck":true,"types":[]},"include":["src"]}',
  'src/cart.ts': 'export interface Line { sku: string; qty: number }\nexport function merge(lines: Line[]): Line[] {\n  return lines;\n}\n',
  'src/cart.test.ts': "import { describe, expect, it } from 'vitest';\nimport { merge } from './cart';\n\ndescribe('Cart', () => {\n  it('merges repeated SKUs', () => {\n    const lines = merge([{ sku: 'A', qty: 1 }, { sku: 'A', qty: 2 }]);\n    expect(lines.lenght).toBe(1);\n  });\n  it('keeps distinct SKUs', () => {\n    console.error('Error: price feed unavailable (expected in this test)');\n    expect(merge([{ sku: 'A', qty: 1 }, { sku: 'B', qty: 1 }])).toHaveLength(2);\n  });\n});\n",
  'passing/ok.test.ts': "import { expect, it } from 'vitest';\n\nit('logs noise but passes', () => {\n  console.error('Error: ECONNREFUSED 127.0.0.1:5432 (the test expects this)');\n  console.log('FAIL-SAFE engaged; error count: 0');\n  expect(1).toBe(1);\n});\n",
  'node/cart.test.mjs': "import { describe, it } from 'node:test';\nimport assert from 'node:assert/strict';\n\ndescribe('Cart', () => {\n  it('merges repeated SKUs', () => { assert.equal([1, 2].length, 1); });\n  it('keeps distinct SKUs', () => { assert.ok(true); });\n});\n",
  'jest/package.json': '{"name":"cart","private":true}',
  'jest/cart.test.js': "const merge = (lines) => lines;\ndescribe('Cart', () => {\n  it('merges repeated SKUs', () => {\n    expect(merge([1, 2]).length).toBe(1);\n  });\n  it('keeps distinct SKUs', () => { expect(1).toBe(1); });\n});\n",
  'jestcov/lib.js': 'exports.pick = (x) => { if (x) { return 1; } return 2; };\n',
  'jestcov/lib.test.js': "test('runs', () => { expect(1).toBe(1); });\n",
  'jestcov/jest.config.js': "module.exports = { rootDir: __dirname, collectCoverage: true, collectCoverageFrom: ['lib.js'], coverageThreshold: { global: { lines: 90 } } };\n",
  'lint/eslint.config.mjs': 'export default [{ rules: { "no-unused-vars": "error", "no-console": "warn" } }];\n',
  'lint/src/order.js': 'const unused = 1;\nconsole.log("x");\nexport const a = 1;\n',
  'lint/src/warn.js': 'console.log("x");\nexport const b = 1;\n',
  'fmt/src/price.js': 'export const   price = {amount:1}\n',
  'oom.mjs': 'const keep = [];\nfor (;;) keep.push(new Array(100000).fill({ order: keep.length }));\n',
  'full.mjs': "import { writeFileSync } from 'node:fs';\nwriteFileSync('/dev/full', 'fills of the day\\n');\n",
  'npmproj/package.json': '{"name":"shop","version":"1.0.0","private":true}',
};

interface Case {
  name: string;
  /** The step's command, as a workflow would have it (the `Run …` line). */
  script: string;
  run: () => Promise<Capture>;
  expect: { category: string; tool: string | null; firstError: string | RegExp; files?: string[]; tests?: string[]; secondary?: string[]; hint?: RegExp };
  /** Lines the GitHub runner adds after the step's output (documented texts; no runner runs here). */
  runnerLines?: string[];
  exitCode?: number;
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'shipgate-ci-'));
const py = path.join(dir, 'py');
const js = path.join(dir, 'js');
const captured = new Map<string, Capture>();

beforeAll(() => {
  writeTree(py, PY);
  writeTree(js, JS);
  linkProjectModules(js);
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const pytest = (args: string[]) => capture([debianTool('python3'), '-m', 'pytest', '-p', 'no:cacheprovider', ...args], py);
const bin = (name: string) => path.join(js, 'node_modules', '.bin', name);

/**
 * ruff is neither in Debian nor on npm; this machine's pip index has its wheel. Where it cannot be
 * installed, the output recorded from the same real ruff run (test/fixtures/ci/, refreshed with
 * SHIPGATE_RECORD_CI=1) is triaged instead, so the case never silently drops out.
 */
async function ruffOrRecorded(name: string, args: string[]): Promise<Capture> {
  const recorded = path.join(ROOT, 'test', 'fixtures', 'ci', `${name}.json`);
  let ruff: string;
  try {
    ruff = pipToolBin('ruff');
  } catch {
    return JSON.parse(readFileSync(recorded, 'utf8')) as Capture;
  }
  const result = await capture([ruff, ...args], py);
  if (process.env.SHIPGATE_RECORD_CI === '1') writeFileSync(recorded, `${JSON.stringify(result, null, 2)}\n`);
  return result;
}

const CASES: Case[] = [
  {
    name: 'tsc type error',
    script: 'npm run typecheck',
    run: () => capture([bin('tsc'), '-p', 'tsconfig.json'], js),
    expect: { category: 'type-error', tool: 'tsc', firstError: "src/cart.test.ts(7,18): error TS2551: Property 'lenght' does not exist on type 'Line[]'. Did you mean 'length'?", files: ['src/cart.test.ts:7'] },
  },
  {
    name: 'mypy type error',
    script: 'mypy shop',
    run: () => capture([debianTool('mypy'), 'shop'], py),
    expect: { category: 'type-error', tool: 'mypy', firstError: /^shop\/tags\.py:5: error: Incompatible types in assignment/, files: ['shop/tags.py:5'] },
  },
  {
    name: 'flake8 lint',
    script: 'flake8 shop',
    run: () => capture([debianTool('flake8'), 'shop'], py),
    expect: { category: 'lint', tool: 'flake8', firstError: "shop/tags.py:1:1: F401 'os' imported but unused", files: ['shop/tags.py:1', 'shop/tags.py:5'] },
  },
  {
    name: 'pylint lint',
    script: 'pylint shop --disable=C',
    run: () => capture([debianTool('pylint'), 'shop', '--disable=C', '--persistent=n'], py, { PYLINTHOME: path.join(dir, 'pylint-home') }),
    expect: { category: 'lint', tool: 'pylint', firstError: /^shop\/(tags|ugly)\.py:\d+:\d+: W\d{4}: /, files: ['shop/tags.py:5'] },
  },
  {
    name: 'ruff check',
    script: 'ruff check shop',
    run: () => ruffOrRecorded('ruff-check', ['check', '--no-cache', 'shop']),
    expect: { category: 'lint', tool: 'ruff', firstError: 'F401 [*] `os` imported but unused', files: ['shop/tags.py:1', 'shop/tags.py:5'], hint: /ruff check --fix shop\/tags\.py/ },
  },
  {
    name: 'ruff format --check',
    script: 'ruff format --check shop',
    run: () => ruffOrRecorded('ruff-format-check', ['format', '--check', '--no-cache', 'shop']),
    expect: { category: 'format', tool: 'ruff', firstError: 'unformatted: File would be reformatted', files: ['shop/ugly.py:1'], hint: /ruff format shop\/ugly\.py/ },
  },
  {
    name: 'black --check',
    script: 'black --check shop',
    run: () => capture([debianTool('black'), '--check', 'shop'], py, { BLACK_CACHE_DIR: path.join(dir, 'black-cache') }),
    expect: { category: 'format', tool: 'black', firstError: /^would reformat .*shop\/ugly\.py$/ },
  },
  {
    name: 'pytest assertion',
    script: 'python -m pytest tests',
    run: () => pytest(['tests']),
    expect: { category: 'test-failure', tool: 'pytest', firstError: "E       AssertionError: assert 'a,b' == 'a;b'", files: ['tests/test_tags.py:5'], tests: ['tests/test_tags.py::test_export'] },
  },
  {
    name: 'pytest-timeout',
    script: 'python -m pytest slow --timeout=1',
    run: () => pytest(['slow', '--timeout=1']),
    expect: { category: 'test-timeout', tool: 'pytest', firstError: 'E       Failed: Timeout >1.0s', tests: ['slow/test_fill.py::test_waits_for_fill'], secondary: [] },
  },
  {
    name: 'pytest collection error',
    script: 'python -m pytest broken',
    run: () => pytest(['broken']),
    expect: { category: 'import-error', tool: 'pytest', firstError: "E   ModuleNotFoundError: No module named 'shop.missing'", files: ['broken/test_imports.py'] },
  },
  {
    name: 'pytest-cov --cov-fail-under',
    script: 'python -m pytest cov --cov=shop --cov-fail-under=90',
    run: () => pytest(['cov', '--cov=shop', '--cov-fail-under=90']),
    expect: { category: 'coverage-drop', tool: 'pytest-cov', firstError: /^FAIL Required test coverage of 90% not reached\. Total coverage: \d+\.\d+%$/ },
  },
  {
    name: 'vitest failure',
    script: 'npx vitest run src',
    run: () => capture([bin('vitest'), 'run', '--root', '.', 'src'], js, { FORCE_COLOR: '1' }),
    expect: { category: 'test-failure', tool: 'vitest', firstError: 'AssertionError: expected undefined to be 1 // Object.is equality', files: ['src/cart.test.ts:7'], tests: ['src/cart.test.ts > Cart > merges repeated SKUs'] },
  },
  {
    name: 'node --test failure',
    script: 'node --test node/',
    run: () => capture([process.execPath, '--test', '--test-reporter=tap', 'node/cart.test.mjs'], js),
    expect: { category: 'test-failure', tool: 'node-test', firstError: 'Expected values to be strictly equal:', tests: ['merges repeated SKUs'] },
  },
  {
    name: 'jest failure',
    script: 'npx jest jest',
    run: () => capture([npmToolBin('jest'), '--ci'], path.join(js, 'jest')),
    expect: { category: 'test-failure', tool: 'jest', firstError: 'expect(received).toBe(expected) // Object.is equality', files: ['cart.test.js:4'], tests: ['Cart › merges repeated SKUs'] },
  },
  {
    name: 'jest coverage threshold',
    script: 'npx jest --config jestcov/jest.config.js',
    run: () => capture([npmToolBin('jest'), '--ci', '--config', 'jestcov/jest.config.js'], js),
    expect: { category: 'coverage-drop', tool: 'jest', firstError: /^Jest: "global" coverage threshold for lines \(90%\) not met: [\d.]+%$/ },
  },
  {
    name: 'eslint errors',
    script: 'npx eslint src',
    run: () => capture([npmToolBin('eslint'), 'src/order.js'], path.join(js, 'lint')),
    expect: { category: 'lint', tool: 'eslint', firstError: /^1:7\s+error\s+'unused' is assigned a value but never used\s+no-unused-vars$/, files: [`${path.join(js, 'lint')}/src/order.js:1`, `${path.join(js, 'lint')}/src/order.js:2`] },
  },
  {
    name: 'eslint --max-warnings',
    script: 'npx eslint --max-warnings 0 src',
    run: () => capture([npmToolBin('eslint'), '--max-warnings', '0', 'src/warn.js'], path.join(js, 'lint')),
    expect: { category: 'lint', tool: 'eslint', firstError: 'ESLint found too many warnings (maximum: 0).', files: [`${path.join(js, 'lint')}/src/warn.js:1`] },
  },
  {
    name: 'prettier --check',
    script: 'npx prettier --check fmt',
    run: () => capture([npmToolBin('prettier'), '--check', 'fmt/src/price.js'], js),
    expect: { category: 'format', tool: 'prettier', firstError: /^\[warn\] Code style issues found in (the above file|1 file)\. Run Prettier( with --write)? to fix\.$/, files: ['fmt/src/price.js'] },
  },
  {
    name: 'node heap out of memory',
    script: 'node oom.mjs',
    run: () => capture([process.execPath, '--max-old-space-size=16', 'oom.mjs'], js),
    expect: { category: 'out-of-memory', tool: 'node', firstError: /FATAL ERROR: .*JavaScript heap out of memory$/ },
  },
  {
    name: 'disk full (ENOSPC)',
    script: 'node full.mjs',
    run: () => capture([process.execPath, 'full.mjs'], js),
    expect: { category: 'disk-full', tool: null, firstError: /ENOSPC: no space left on device, write/ },
  },
  {
    name: 'npm E404',
    script: 'npm install left-padd',
    run: async () => {
      const reg = await emptyRegistry();
      try {
        return await capture(['npm', 'install', 'left-padd', '--registry', `${reg.url}/`, '--no-audit', '--no-fund', '--fetch-retries=0', '--cache', path.join(dir, 'npm-cache')], path.join(js, 'npmproj'));
      } finally {
        await reg.close();
      }
    },
    expect: { category: 'dependency-install', tool: 'npm', firstError: /^npm (error|ERR!) code E404$/ },
  },
  {
    name: 'npm ERESOLVE (peer dependency conflict)',
    script: 'npm install',
    // Two local packages made by npm pack: quote-feed wants order-book@^2 as a peer, the project pins order-book 1.
    run: () => {
      const proj = path.join(js, 'npmpeer');
      const bookTgz = npmPack(proj, { name: 'order-book', version: '1.0.0' });
      const feedTgz = npmPack(proj, { name: 'quote-feed', version: '1.0.0', peerDependencies: { 'order-book': '^2.0.0' } });
      writeTree(proj, { 'package.json': JSON.stringify({ name: 'desk', version: '1.0.0', private: true, dependencies: { 'order-book': `file:${bookTgz}`, 'quote-feed': `file:${feedTgz}` } }) });
      return capture(['npm', 'install', '--offline', '--no-audit', '--no-fund', '--cache', path.join(dir, 'npm-cache')], proj);
    },
    expect: { category: 'dependency-install', tool: 'npm', firstError: /^npm (error|ERR!) code ERESOLVE$/, hint: /--legacy-peer-deps .*risk/ },
  },
  {
    name: 'npm ci with package-lock.json out of sync',
    script: 'npm ci',
    // The lock file is written by npm for one dependency; package.json then gains a second one.
    run: () => {
      const proj = path.join(js, 'npmsync');
      const npm = (args: string[]) => execFileSync('npm', [...args, '--offline', '--no-audit', '--no-fund', '--cache', path.join(dir, 'npm-cache')], { cwd: proj, stdio: 'ignore' });
      const bookTgz = npmPack(proj, { name: 'order-book', version: '1.0.0' });
      const limitsTgz = npmPack(proj, { name: 'risk-limits', version: '1.0.0' });
      const manifest = (deps: Record<string, string>) => writeTree(proj, { 'package.json': JSON.stringify({ name: 'desk', version: '1.0.0', private: true, dependencies: deps }) });
      manifest({ 'order-book': `file:${bookTgz}` });
      npm(['install', '--package-lock-only']);
      manifest({ 'order-book': `file:${bookTgz}`, 'risk-limits': `file:${limitsTgz}` });
      return capture(['npm', 'ci', '--offline', '--no-audit', '--no-fund', '--cache', path.join(dir, 'npm-cache')], proj);
    },
    expect: { category: 'dependency-install', tool: 'npm', firstError: /^npm (error|ERR!) `npm ci` can only install packages when your package\.json and package-lock\.json .*in sync/, hint: /commit the refreshed package-lock\.json/ },
  },
  {
    name: 'npm ECONNREFUSED',
    script: 'npm install left-pad',
    run: async () => {
      const reg = await emptyRegistry();
      await reg.close(); // nothing listens on this port any more
      return capture(['npm', 'install', 'left-pad', '--registry', `${reg.url}/`, '--no-audit', '--no-fund', '--fetch-retries=0', '--cache', path.join(dir, 'npm-cache')], path.join(js, 'npmproj'));
    },
    expect: { category: 'network-flake', tool: 'npm', firstError: /^npm (error|ERR!) code ECONNREFUSED$/ },
  },
  {
    name: 'pip no matching distribution',
    script: 'pip install -r requirements.txt',
    run: async () => {
      const reg = await emptyRegistry();
      try {
        return await capture([debianTool('python3'), '-m', 'pip', 'install', '--no-cache-dir', '--disable-pip-version-check', '--index-url', `${reg.url}/simple/`, 'tradinglib==9.9.9'], py, { PIP_BREAK_SYSTEM_PACKAGES: '1' });
      } finally {
        await reg.close();
      }
    },
    expect: { category: 'dependency-install', tool: 'pip', firstError: /^ERROR: Could not find a version that satisfies the requirement tradinglib==9\.9\.9/ },
  },
  {
    name: 'kernel OOM killer (exit 137)',
    script: 'python -m pytest -n 8',
    // A process killed by SIGKILL, as the OOM killer does; bash reports it. The exit-code line is GitHub's.
    run: () => capture(['bash', '-c', 'bash -c \'kill -9 $$\'; exit 137'], py),
    expect: { category: 'out-of-memory', tool: 'kernel', firstError: /Killed/ },
  },
  {
    name: 'job timeout (GitHub runner message)',
    script: 'python -m pytest tests',
    run: () => pytest(['tests', '-k', 'empty']),
    runnerLines: ['##[error]The job running on runner GitHub Actions 12 has exceeded the maximum execution time of 360 minutes.', '##[error]The operation was canceled.'],
    expect: { category: 'job-timeout', tool: 'github-actions', firstError: 'The job running on runner GitHub Actions 12 has exceeded the maximum execution time of 360 minutes.' },
    exitCode: -1,
  },
  {
    name: 'runner lost (GitHub runner message)',
    script: 'python -m pytest tests',
    run: () => pytest(['tests', '-k', 'empty']),
    runnerLines: ['##[error]The runner has received a shutdown signal. This can happen when the runner service is stopped, or a manually started runner is canceled.', '##[error]The operation was canceled.'],
    expect: { category: 'runner-lost', tool: 'github-actions', firstError: /^The runner has received a shutdown signal\./ },
    exitCode: -1,
  },
];

async function triage(text: string): Promise<Triage> {
  return triageLogWithProject(null, Readable.from([Buffer.from(text)]), { junit: [] });
}

describe.each(CASES)('$name: real output, three log shapes', (c) => {
  let cap: Capture;
  beforeAll(async () => {
    cap = captured.get(c.name) ?? (await c.run());
    captured.set(c.name, cap);
  });

  const check = (t: Triage) => {
    expect(t.category, `output was:\n${cap.output}`).toBe(c.expect.category);
    expect(t.tool).toBe(c.expect.tool);
    if (typeof c.expect.firstError === 'string') expect(t.firstError).toBe(c.expect.firstError);
    else expect(t.firstError).toMatch(c.expect.firstError);
    for (const f of c.expect.files ?? []) expect(t.files).toContain(f);
    if (c.expect.tests) expect(t.tests).toEqual(c.expect.tests);
    if (c.expect.secondary) expect(t.secondary).toEqual(c.expect.secondary);
    expect(t.hints.length).toBeGreaterThan(0);
    if (c.expect.hint) expect(t.hints.join('\n')).toMatch(c.expect.hint);
  };
  const exit = () => (c.exitCode === -1 ? 0 : cap.exitCode);

  it('plain terminal output', async () => {
    if (c.runnerLines) return; // runner messages exist only in GitHub's logs
    expect(cap.exitCode, cap.output).not.toBe(0);
    const t = await triage(cap.output);
    check(t);
    expect(t.failedStep).toBeNull();
    expect(t.exitCode).toBeNull();
  });

  it('the same verdict when the log arrives 3 bytes at a time (looking back across chunk boundaries)', async () => {
    const text = asGithubLog(c.script, cap.output, exit(), c.runnerLines);
    const bytes = Buffer.from(text);
    const chunks: Buffer[] = [];
    for (let i = 0; i < bytes.length; i += 3) chunks.push(bytes.subarray(i, i + 3));
    expect(await triageLogWithProject(null, Readable.from(chunks), { junit: [] })).toEqual(await triage(text));
  });

  it('raw GitHub job log', async () => {
    const t = await triage(asGithubLog(c.script, cap.output, exit(), c.runnerLines));
    check(t);
    expect(t.failedStep).toBe(`Run ${c.script}`);
    expect(t.reproduce).toBe(c.script);
    expect(t.exitCode).toBe(c.exitCode === -1 ? null : cap.exitCode);
  });

  it('gh run view --log-failed', async () => {
    const t = await triage(asGhLogFailed('test (ubuntu-latest)', asGithubLog(c.script, cap.output, exit(), c.runnerLines)));
    check(t);
    expect(t.failedStep).toBe(`Run ${c.script}`);
  });
});

describe('logs that are not failures', () => {
  it('passing vitest run whose tests print errors to the console is none', async () => {
    const cap = await capture([bin('vitest'), 'run', '--root', '.', 'passing'], js);
    expect(cap.exitCode, cap.output).toBe(0);
    expect(cap.output).toContain('ECONNREFUSED');
    for (const text of [cap.output, asGithubLog('npx vitest run passing', cap.output, 0)]) {
      const t = await triage(text);
      expect(t.category, cap.output).toBe('none');
      expect(t.firstError).toBeNull();
    }
  });

  it('passing pytest run that logs error-looking lines is none', async () => {
    const cap = await pytest(['noisy', '-s']);
    expect(cap.exitCode, cap.output).toBe(0);
    const t = await triage(asGithubLog('python -m pytest noisy -s', cap.output, 0));
    expect(t.category).toBe('none');
    expect(t.secondary).toEqual([]);
  });

  it('a failed step no cause explains is unknown (never none), with the last line before the failure', async () => {
    const cap = await capture(['bash', '-c', 'echo "deploying preview"; echo "preview quota reached for acme"; exit 3'], py);
    const t = await triage(asGithubLog('./scripts/preview.sh', cap.output, cap.exitCode));
    expect(t.category).toBe('unknown');
    expect(t.exitCode).toBe(3);
    expect(t.firstError).toBe('preview quota reached for acme');
    expect(t.reproduce).toBe('./scripts/preview.sh');
  });
});

describe('shipgate ci triage --log (the CLI)', () => {
  it('prints exactly the promised keys as JSON, reading stdin, and the same facts for people', async () => {
    const cap = captured.get('pytest assertion') ?? (await pytest(['tests']));
    const log = asGithubLog('python -m pytest tests', cap.output, cap.exitCode);
    const file = path.join(dir, 'job.log');
    writeFileSync(file, log);
    const res = await shipgate(['ci', 'triage', '--log', file, '--json'], { cwd: dir });
    expect(res.code, res.stderr).toBe(0);
    const out = res.json();
    expect(Object.keys(out)).toEqual(['failedStep', 'category', 'secondary', 'firstError', 'files', 'tests', 'exitCode', 'tool', 'reproduce', 'hints']);
    expect(out).toMatchObject({ failedStep: 'Run python -m pytest tests', category: 'test-failure', tests: ['tests/test_tags.py::test_export'], exitCode: 1, tool: 'pytest', reproduce: 'python -m pytest tests' });

    const human = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
      const child = spawnProcess(process.execPath, [BIN, 'ci', 'triage', '--log', '-'], { cwd: dir, env: { ...process.env, NO_COLOR: '1' } });
      let stdout = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.on('close', (code) => resolve({ code, stdout }));
      child.stdin.end(log);
    });
    expect(human.code).toBe(0);
    for (const k of ['failedStep', 'category', 'firstError', 'files', 'tests', 'exitCode', 'tool', 'reproduce', 'hint']) expect(human.stdout).toContain(k);
    expect(human.stdout).toContain("E       AssertionError: assert 'a,b' == 'a;b'");
  });

  it("README's short real example of ci triage --log is what the CLI prints for real pytest output", async () => {
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const block = /```text\n\$ python -m pytest tests 2>&1 \| shipgate ci triage --log -\n([\s\S]*?)```/.exec(readme);
    expect(block, 'README shows `python -m pytest tests 2>&1 | shipgate ci triage --log -`').not.toBeNull();
    const cap = captured.get('pytest assertion') ?? (await pytest(['tests']));
    const printed = await new Promise<string>((resolve) => {
      const child = spawnProcess(process.execPath, [BIN, 'ci', 'triage', '--log', '-'], { cwd: dir, env: { ...process.env, NO_COLOR: '1' } });
      let stdout = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.on('close', () => resolve(stdout));
      child.stdin.end(cap.output);
    });
    expect(printed).toBe(block![1]);
  });

  // Found in an operator's trial: an empty file (a redirect that captured nothing) was triaged `none`, exit 0.
  it('an empty log is bad input (exit 2), never `none`: from a file and from stdin', async () => {
    const file = path.join(dir, 'empty.log');
    writeFileSync(file, '');
    const res = await shipgate(['ci', 'triage', '--log', file, '--json'], { cwd: dir });
    expect(res.code, res.stdout + res.stderr).toBe(2);
    expect(res.json()).toMatchObject({ ok: false, error: { message: 'the log is empty: there is nothing to triage', exitCode: 2, where: '--log' } });
    const piped = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawnProcess(process.execPath, [BIN, 'ci', 'triage', '--log', '-'], { cwd: dir, env: { ...process.env, NO_COLOR: '1' } });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('close', (code) => resolve({ code, stdout, stderr }));
      child.stdin.end('');
    });
    expect(piped.code, piped.stdout + piped.stderr).toBe(2);
    expect(piped.stdout).not.toContain('none');
    expect(piped.stderr).toContain('the log is empty');
  });

  it('a missing log file is bad input (exit 2) naming the file', async () => {
    const res = await shipgate(['ci', 'triage', '--log', path.join(dir, 'nope.log')], { cwd: dir });
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('nope.log');
  });
});

describe('shipgate ci triage/flaky/rerun/status through a GitHub API that follows the REST docs', () => {
  let ws: StackWorkspace;
  let gh: FakeGitHub;
  let sha: string;
  let failingLog: string;
  let passingLog: string;
  const TOKEN = 'ghp_ciTriageSecret123';
  const jobs = (conclusion: 'failure' | 'success'): FakeJob[] => [
    { id: 71, name: 'tests', status: 'completed', conclusion, steps: [{ number: 1, name: 'Set up job', status: 'completed', conclusion: 'success' }, { number: 2, name: 'Run python -m pytest -v tests', status: 'completed', conclusion }] },
    { id: 72, name: 'lint', status: 'completed', conclusion: 'success', steps: [] },
  ];

  beforeAll(async () => {
    ws = await stackWorkspace(['staging'], ['v1.0.0']);
    sha = execFileSync('git', ['-C', ws.repoDir, 'rev-parse', 'v1.0.0^{commit}'], { encoding: 'utf8' }).trim();
    // Real pytest output: the test fails on the first attempt and passes on the re-run (fixed data, same test id).
    const flakyDir = path.join(dir, 'flaky');
    writeTree(flakyDir, { 'shop/__init__.py': '', 'shop/tags.py': PY['shop/tags.py'], 'tests/test_tags.py': PY['tests/test_tags.py'] });
    const failing = await capture([debianTool('python3'), '-m', 'pytest', '-v', '-p', 'no:cacheprovider', 'tests'], flakyDir);
    writeFileSync(path.join(flakyDir, 'shop/tags.py'), 'def export(tags: list[str]) -> str:\n    return ";".join(sorted(tags))\n');
    const passing = await capture([debianTool('python3'), '-m', 'pytest', '-v', '-p', 'no:cacheprovider', 'tests'], flakyDir);
    expect(failing.exitCode).toBe(1);
    expect(passing.exitCode).toBe(0);
    failingLog = asGithubLog('python -m pytest -v tests', failing.output, failing.exitCode);
    passingLog = asGithubLog('python -m pytest -v tests', passing.output, 0);
    gh = await FakeGitHub.start({ repo: 'acme/trading', token: TOKEN });
    writeFileSync(path.join(ws.dir, 'shipgate.yml'), `${readFileSync(path.join(ws.dir, 'shipgate.yml'), 'utf8')}preflight:\n  github: { repo: acme/trading, tokenEnv: GH_TOKEN, apiUrl: '${gh.url}' }\n`);
  });
  afterAll(async () => {
    await gh?.close();
    await ws?.cleanup();
  });

  const seedAttempt = (attempt: number, conclusion: 'failure' | 'success') => {
    gh.seed = {
      workflowRuns: [{ id: 7, name: 'CI', head_sha: sha, status: 'completed', conclusion, run_attempt: attempt }],
      jobs: { 7: jobs(conclusion) },
      jobLogs: { 71: conclusion === 'failure' ? failingLog : passingLog, 72: asGithubLog('ruff check .', 'All checks passed!\n', 0) },
      annotations: { 71: [{ path: 'tests/test_tags.py', start_line: 5, annotation_level: 'failure', message: 'Process completed with exit code 1.' }] },
      checkRuns: { [sha]: [{ name: 'tests', status: 'completed', conclusion }, { name: 'lint', status: 'completed', conclusion: 'success' }] },
    };
  };
  const run = (args: string[]) => ws.run(args, { GH_TOKEN: TOKEN });

  it('triages each failed job from its log (downloaded without the token), with the failed step and annotations', async () => {
    seedAttempt(1, 'failure');
    const res = await run(['ci', 'triage', '7', '--json']);
    expect(res.code, res.stderr).toBe(0);
    const [r] = res.json().runs;
    expect(r.run).toMatchObject({ id: 7, commit: sha, attempt: 1 });
    expect(r.jobs).toHaveLength(1);
    expect(r.jobs[0]).toMatchObject({
      job: { id: 71, name: 'tests' },
      failedStep: 'Run python -m pytest -v tests',
      category: 'test-failure',
      firstError: "E       AssertionError: assert 'a,b' == 'a;b'",
      tests: ['tests/test_tags.py::test_export'],
      exitCode: 1,
      tool: 'pytest',
      reproduce: 'python -m pytest -v tests',
    });
    expect(r.jobs[0].annotations[0]).toMatchObject({ path: 'tests/test_tags.py', line: 5, level: 'failure' });
    const downloads = gh.requests.filter((q) => q.path.startsWith('/_download/'));
    expect(downloads.length).toBeGreaterThan(0);
    expect(downloads.every((q) => q.headers.authorization === undefined)).toBe(true);
    expect(res.stdout).not.toContain(TOKEN);
  });

  it('ci flaky finds the test that failed and then passed on a re-run of the same commit; a later failure of only it is flaky', async () => {
    seedAttempt(2, 'success');
    const rerun = await run(['ci', 'triage', `https://github.com/acme/trading/actions/runs/7`, '--json']);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.json().runs[0].jobs).toEqual([]);

    const flaky = await run(['ci', 'flaky', '--json']);
    expect(flaky.code, flaky.stderr).toBe(0);
    expect(flaky.json().flaky).toEqual([expect.objectContaining({ test: 'tests/test_tags.py::test_export', passed: 1, failed: 1, commits: [sha] })]);
    expect(flaky.json().flaky.map((f: { test: string }) => f.test)).not.toContain('tests/test_tags.py::test_empty');

    seedAttempt(3, 'failure');
    const again = await run(['ci', 'triage', '7', '--json']);
    const job = again.json().runs[0].jobs[0];
    expect(job.category).toBe('flaky');
    expect(job.secondary[0]).toBe('test-failure');
    expect(job.hints[0]).toContain('tests/test_tags.py::test_export');
  });

  it('ci rerun --failed asks GitHub to re-run the failed jobs and records it', async () => {
    seedAttempt(1, 'failure');
    const res = await run(['ci', 'rerun', '7', '--failed']);
    expect(res.code, res.stderr).toBe(0);
    expect(gh.reruns).toEqual([7]);
    const post = gh.requests.find((q) => q.method === 'POST');
    expect(post?.path).toBe('/repos/acme/trading/actions/runs/7/rerun-failed-jobs');
    expect(post?.headers.authorization).toBe(`Bearer ${TOKEN}`);
    const audit = await ws.run(['audit', '--json']);
    expect(audit.stdout).toContain('ci.rerun');
    expect((await run(['ci', 'rerun', '7'])).code).toBe(2);
  });

  it('ci status shows each check of a commit with its state and link, and fails on a red one', async () => {
    seedAttempt(1, 'failure');
    const res = await run(['ci', 'status', 'v1.0.0', '--json']);
    expect(res.code).toBe(1);
    const out = res.json();
    expect(out.commit).toBe(sha);
    expect(out.checks).toEqual([
      { name: 'tests', kind: 'check-run', state: 'failure', url: expect.stringMatching(/^https:\/\/github\.com\/acme\/trading\/runs\/\d+$/) },
      { name: 'lint', kind: 'check-run', state: 'success', url: expect.stringMatching(/^https:\/\/github\.com\//) },
    ]);
    seedAttempt(2, 'success');
    expect((await run(['ci', 'status', 'v1.0.0'])).code).toBe(0);
  });

  it("preflight's CI item explains a red CI with the triage of the failed job (flaky: the test passed on a re-run above)", async () => {
    seedAttempt(1, 'failure');
    const res = await run(['preflight', 'v1.0.0', '--env', 'staging', '--json']);
    const ci = res.json().items.find((i: { item: string }) => i.item === 'ci');
    expect(ci.status).toBe('fail');
    expect(ci.evidence).toContain(`triage: tests: flaky in "Run python -m pytest -v tests": E       AssertionError: assert 'a,b' == 'a;b'`);
  });

  it('ci local runs the configured steps with live output and triages the failing one', async () => {
    const file = path.join(ws.dir, 'shipgate.yml');
    writeFileSync(file, `${readFileSync(file, 'utf8')}ci:\n  local:\n    - { name: format, command: [${debianTool('black')}, --check, shop/clean.py], cwd: ${py} }\n    - { name: types, command: [${debianTool('mypy')}, shop/tags.py], cwd: ${py} }\n`);
    const res = await run(['ci', 'local', '--json']);
    expect(res.code, res.stderr).toBe(1);
    expect(res.stderr).toContain('shop/tags.py:5: error: Incompatible types in assignment'); // shown live
    const out = res.json();
    expect(out.steps.map((st: { name: string; exitCode: number }) => [st.name, st.exitCode])).toEqual([['format', 0], ['types', 1]]);
    expect(out.triage).toMatchObject({ category: 'type-error', tool: 'mypy', files: ['shop/tags.py:5'], exitCode: 1, failedStep: 'types', reproduce: `${debianTool('mypy')} shop/tags.py` });
  });

  it('says so when GitHub refuses the token, without echoing it', async () => {
    seedAttempt(1, 'failure');
    const res = await ws.run(['ci', 'triage', '7'], { GH_TOKEN: 'wrong-token-value' });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('could not read run 7');
    expect(res.stderr).not.toContain('wrong-token-value');
  });

  it('--junit: a real pytest --junitxml report names the failing test the log does not, and its outcomes make the test flaky', async () => {
    const jdir = path.join(dir, 'junit');
    const failingCode = 'def fee(qty: int) -> int:\n    return qty * 2\n';
    writeTree(jdir, { 'shop/__init__.py': '', 'shop/fees.py': failingCode, 'tests/test_fees.py': 'from shop.fees import fee\n\n\ndef test_fee():\n    assert fee(3) == 3\n\n\ndef test_zero():\n    assert fee(0) == 0\n' });
    // -q --tb=no -rN: the terminal output names no test at all; only the JUnit report does.
    const attempt = async (name: string) => {
      const xml = path.join(jdir, `${name}.xml`);
      const log = path.join(jdir, `${name}.log`);
      const cap = await capture([debianTool('python3'), '-m', 'pytest', '-p', 'no:cacheprovider', '-q', '--tb=no', '-rN', `--junitxml=${xml}`, 'tests'], jdir);
      writeFileSync(log, cap.output);
      expect(cap.output).not.toContain('test_fee');
      const res = await ws.run(['ci', 'triage', '--log', log, '--junit', xml, '--commit', 'v1.0.0', '--json']);
      expect(res.code, res.stderr).toBe(0);
      return { exitCode: cap.exitCode, xml: readFileSync(xml, 'utf8'), triage: res.json() };
    };

    const first = await attempt('attempt-1');
    expect(first.exitCode).toBe(1);
    expect(first.xml).toMatch(/<testcase [^>]*name="test_fee"[^>]*>\s*<failure/);
    expect(first.triage).toMatchObject({ category: 'test-failure', tests: ['tests/test_fees.py::test_fee'], tool: 'junit' });
    expect(first.triage.firstError).toContain('assert 6 == 3');

    writeFileSync(path.join(jdir, 'shop/fees.py'), 'def fee(qty: int) -> int:\n    return qty\n');
    const rerun = await attempt('attempt-2');
    expect(rerun.exitCode).toBe(0);
    expect(rerun.triage.category).toBe('none');
    const flaky = (await run(['ci', 'flaky', '--json'])).json().flaky;
    expect(flaky).toContainEqual(expect.objectContaining({ test: 'tests/test_fees.py::test_fee', commits: [sha] }));
    expect(flaky.find((f: { test: string }) => f.test === 'tests/test_fees.py::test_fee')).toMatchObject({ passed: expect.any(Number), failed: expect.any(Number) });
    expect(flaky.map((f: { test: string }) => f.test)).not.toContain('tests/test_fees.py::test_zero');

    writeFileSync(path.join(jdir, 'shop/fees.py'), failingCode);
    const third = await attempt('attempt-3');
    expect(third.triage.category).toBe('flaky');
    expect(third.triage.tests).toEqual(['tests/test_fees.py::test_fee']);
    expect(third.triage.hints[0]).toContain('tests/test_fees.py::test_fee');
  });
});
