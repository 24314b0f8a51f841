// The one runner: every external command shipgate runs goes through it, with one set of exit
// codes and one timeout policy, whether its output is kept, streamed line by line or piped.
import { describe, expect, it } from 'vitest';
import { pipeInto } from '../src/adapters/runner/pipe.js';
import { localRunner, NOT_STARTED, TIMED_OUT } from '../src/adapters/runner/runner.js';

describe('the runner', () => {
  it('keeps output, passes input, and reports the exit code', async () => {
    const res = await localRunner.run(['sh', '-c', 'cat; echo err >&2; exit 3'], { input: 'hello\n' });
    expect(res).toMatchObject({ exitCode: 3, stdout: 'hello\n', stderr: 'err\n' });
  });

  it('stdin is /dev/null without input: a command reading it ends instead of waiting', async () => {
    expect(await localRunner.run(['cat'])).toMatchObject({ exitCode: 0, stdout: '' });
  });

  it('a command that cannot start is 127 with the reason; one killed at its timeout is 124, not 127', async () => {
    const missing = await localRunner.run(['/nonexistent/tool']);
    expect(missing.exitCode).toBe(NOT_STARTED);
    expect(missing.stderr).toMatch(/ENOENT/);
    const slow = await localRunner.run(['sleep', '30'], { timeoutMs: 100 });
    expect(slow.exitCode).toBe(TIMED_OUT);
    expect(slow.stderr).toMatch(/sleep timed out after/);
  });

  it('a command ended by a signal is 128 + its number', async () => {
    expect((await localRunner.run(['sh', '-c', 'kill -TERM $$'])).exitCode).toBe(128 + 15);
  });

  it('streams lines (split multibyte characters intact) and raw chunks; keepOutput: false keeps nothing', async () => {
    const lines: string[] = [];
    let bytes = 0;
    const res = await localRunner.run(['sh', '-c', `printf 'one\\r\\ntw'; sleep 0.05; printf 'o €\\nthree'; printf 'e1\\n' >&2`], {
      keepOutput: false,
      onLine: (line, stream) => lines.push(`${stream}:${line}`),
      onChunk: (chunk) => (bytes += chunk.length),
    });
    expect(res).toMatchObject({ exitCode: 0, stdout: '', stderr: '' });
    expect(lines.sort()).toEqual(['stderr:e1', 'stdout:one', 'stdout:three', 'stdout:two €']);
    expect(bytes).toBe(Buffer.byteLength('one\r\ntwo €\nthreee1\n'));
  });

  it('pipes one command into another with a prefix and a suffix that knows whether the producer succeeded', async () => {
    const ok = await pipeInto(['printf', 'b\\n'], ['sh', '-c', 'cat >&2'], { env: process.env, timeoutMs: 10_000, prefix: 'a\n', suffix: (good) => (good ? 'COMMIT\n' : 'ROLLBACK\n') });
    expect(ok).toMatchObject({ producerCode: 0, consumerCode: 0, consumerStderr: 'a\nb\nCOMMIT\n' });
    const failed = await pipeInto(['sh', '-c', 'echo partial; exit 2'], ['sh', '-c', 'cat >&2'], { env: process.env, timeoutMs: 10_000, prefix: '', suffix: (good) => (good ? 'COMMIT\n' : 'ROLLBACK\n') });
    expect(failed).toMatchObject({ producerCode: 2, consumerCode: 0, consumerStderr: 'partial\nROLLBACK\n' });
  });

  it('a consumer that stops early ends the producer too', async () => {
    const res = await pipeInto(['sh', '-c', 'while :; do echo y; done'], ['sh', '-c', 'head -c 10 > /dev/null; exit 4'], { env: process.env, timeoutMs: 60_000, prefix: '', suffix: () => '' });
    expect(res.consumerCode).toBe(4);
    expect(res.producerCode).not.toBe(0);
  });
});
