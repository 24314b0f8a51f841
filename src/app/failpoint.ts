/**
 * Crash-testing seam: `SHIPGATE_FAILPOINT=deploy:stop-old:after` makes the process SIGKILL
 * itself at that point, so tests can prove every step resumes. Unset in normal use.
 */
export function failpoint(kind: string, step: string, when: 'before' | 'after'): void {
  const wanted = process.env.SHIPGATE_FAILPOINT;
  if (wanted && wanted === `${kind}:${step}:${when}`) process.kill(process.pid, 'SIGKILL');
}
