import { describe, expect, it } from 'vitest';
import { judgeHealth, readField } from '../src/core/health.js';
import { launchProblem } from '../src/adapters/targets/process/launch-check.js';

const ok = (body: unknown) => ({ status: 200, version: undefined, error: undefined, body });
const contract = { status: { field: 'status', healthy: ['healthy', 'ok'] }, version: { field: 'build' } } as const;

describe('the health contract, judged', () => {
  it('a 200 whose status field says otherwise, or says nothing, is unhealthy', () => {
    expect(judgeHealth(ok({ status: 'degraded', build: 'r1' }), 'r1', contract)).toMatchObject({ healthy: false, reason: 'status is "degraded" (healthy: healthy, ok)' });
    expect(judgeHealth(ok({ build: 'r1' }), 'r1', contract)).toMatchObject({ healthy: false, reason: 'HTTP 200, but the answer has no "status"' });
    expect(judgeHealth(ok(undefined), 'r1', contract).healthy).toBe(false);
    expect(judgeHealth(ok({ status: 'ok', build: 'r1' }), 'r1', contract)).toMatchObject({ healthy: true, version: 'r1', versionChecked: true });
  });

  it('the release is read from the configured field; missing or different is unhealthy', () => {
    expect(judgeHealth(ok({ status: 'ok', version: '0.1.0' }), 'r1', contract)).toMatchObject({ healthy: false, reason: 'HTTP 200, but the answer does not report its release in "build"' });
    expect(judgeHealth(ok({ status: 'ok', build: 'r0' }), 'r1', contract)).toMatchObject({ healthy: false, reason: 'reports build r0, expected r1' });
    expect(judgeHealth(ok({ meta: { build: 'r1' } }), 'r1', { version: { field: 'meta.build' } })).toMatchObject({ healthy: true, version: 'r1' });
  });

  it('version: ignore passes and says the version was not checked', () => {
    const j = judgeHealth(ok({ status: 'healthy', version: '0.1.0' }), 'r1', { ...contract, version: 'ignore' });
    expect(j).toMatchObject({ healthy: true, versionChecked: false });
    expect(j.reason).toContain('version not checked');
  });

  it('fields are read only from the object itself', () => {
    expect(readField({}, 'constructor')).toBeUndefined();
    expect(readField({ a: { b: 3 } }, 'a.b')).toBe('3');
  });
});

describe('a launch is checked before anything stops', () => {
  const spec = (over: object) => ({ service: 'quotes', argv: ['sh', '-c', 'true'] as [string, ...string[]], cwd: '/tmp', env: { PATH: '/usr/bin:/bin' }, logFile: '/tmp/x.log', ...over });
  it('NUL in an argument or a variable, a missing program, a missing directory', () => {
    expect(launchProblem(spec({}))).toBeUndefined();
    expect(launchProblem(spec({ env: { PATH: '/usr/bin:/bin', X: 'a\0b' } }))?.message).toContain('"X" of quotes contains a NUL byte');
    expect(launchProblem(spec({ env: { PATH: '/usr/bin:/bin', PEM: 'line1\nline2' } }))).toBeUndefined();
    expect(launchProblem(spec({ argv: ['sh', 'a\nb'] }))?.message).toContain('argument 1 of quotes\'s command contains a line break');
    expect(launchProblem(spec({ argv: ['no-such-program-xyz'] }))?.message).toContain('install no-such-program-xyz on this host');
    expect(launchProblem(spec({ cwd: '/no/such/dir' }))?.message).toContain('does not exist');
  });
});
