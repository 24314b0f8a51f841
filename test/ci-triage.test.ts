import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { triageJob } from '../src/core/ci-triage.js';
import { FakeGitHub } from './fakes/github.js';
import { stackWorkspace, type StackWorkspace } from './harness/stack.js';

describe('CI failure classification (seed table)', () => {
  const job = (name: string, steps: string[], conclusion = 'failure') => ({ name, conclusion, failedSteps: steps.map((s) => ({ name: s, conclusion: 'failure' })) });
  it.each([
    [job('lint-and-type', ['Run mypy --strict']), 'type-errors'],
    [job('checks', ['Run ruff check']), 'lint-errors'],
    [job('build', ['Install dependencies']), 'import-errors'],
    [job('unit', ['Run pytest tests/']), 'test-failures'],
    [job('unit', ['Upload coverage']), 'coverage-drop'],
    [job('unit', ['Run pytest'], 'timed_out'), 'timeout'],
    [job('deploy-docs', ['Publish']), 'unknown'],
  ])('%j is %s', (j, type) => expect(triageJob(j).type).toBe(type));
});

describe('shipgate ci triage against a GitHub API that follows the REST docs', () => {
  let ws: StackWorkspace;
  let gh: FakeGitHub;
  let sha: string;

  beforeAll(async () => {
    ws = await stackWorkspace(['staging'], ['v1.0.0']);
    sha = execFileSync('git', ['-C', ws.repoDir, 'rev-parse', 'v1.0.0^{commit}'], { encoding: 'utf8' }).trim();
    gh = await FakeGitHub.start({
      repo: 'acme/trading',
      token: 'ghp_secret',
      seed: {
        workflowRuns: [{ id: 7, name: 'CI', head_sha: sha, status: 'completed', conclusion: 'failure', run_number: 42 }],
        jobs: {
          7: [
            { id: 71, name: 'types', status: 'completed', conclusion: 'failure', steps: [{ number: 1, name: 'Checkout', status: 'completed', conclusion: 'success' }, { number: 2, name: 'Run mypy --strict', status: 'completed', conclusion: 'failure' }] },
            { id: 72, name: 'tests', status: 'completed', conclusion: 'failure', steps: [{ number: 1, name: 'Run pytest', status: 'completed', conclusion: 'failure' }] },
            { id: 73, name: 'lint', status: 'completed', conclusion: 'success', steps: [] },
          ],
        },
      },
    });
  });
  afterAll(async () => {
    await gh?.close();
    await ws?.cleanup();
  });

  it('lists each failed job with its type, fix and the commands to read, reproduce and re-run it', async () => {
    const { writeFileSync, readFileSync } = await import('node:fs');
    const file = `${ws.dir}/shipgate.yml`;
    writeFileSync(file, `${readFileSync(file, 'utf8')}preflight:\n  commands: [{ name: tests, command: [make, test] }]\n  github: { repo: acme/trading, tokenEnv: GH_TOKEN, apiUrl: '${gh.url}' }\n`);
    const res = await ws.run(['ci', 'triage', 'v1.0.0', '--json'], { GH_TOKEN: 'ghp_secret' });
    expect(res.code, res.stderr).toBe(0);
    const out = res.json();
    expect(out.commit).toBe(sha);
    expect(out.jobs.map((j: any) => [j.job.name, j.type, j.failedSteps])).toEqual([
      ['types', 'type-errors', ['Run mypy --strict']],
      ['tests', 'test-failures', ['Run pytest']],
    ]);
    expect(out.jobs[0].commands).toEqual({ logs: 'gh run view 7 --log-failed', rerun: 'gh run rerun 7 --failed', reproduce: ['make test'] });
    expect(res.stdout).not.toContain('ghp_secret');
  });

  it('says so when GitHub refuses the token', async () => {
    const res = await ws.run(['ci', 'triage', 'v1.0.0'], { GH_TOKEN: 'wrong' });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('could not read the CI runs');
    expect(res.stderr).not.toContain('wrong');
  });
});
