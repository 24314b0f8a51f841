// Operations that change hosts, rolled out in batches of `parallelism`: the first failure stops the
// rollout, and up/down return the hosts they moved (compensation.ts) before failing.

import { ExitCode, failed, ShipgateError } from '../../../core/errors.js';
import type { ReleaseSpec } from '../target.js';
import { rolloutBatches } from './commands.js';
import { returnHosts } from './compensation.js';
import { downHost, prepareHost, upHost } from './hosts.js';
import type { Host, SshSession } from './session.js';
import { hostState, startedRef } from './state.js';

export interface RolloutResult {
  done: Host[];
  failures: { host: Host; error: Error }[];
  notReached: Host[];
}

/** Fetch, checkout and build (or pull) on every host, host by host; nothing running changes. */
export async function prepareRelease(ss: SshSession, release: ReleaseSpec): Promise<void> {
  const res = await runRollout(ss, release.env, 'prepare', (h) => prepareHost(ss, h, release));
  // A release refused by policy (images not pinned to it) is refused as such, not as a failure.
  const refusal = res.failures.map((f) => f.error).find((e) => e instanceof ShipgateError && e.exitCode === ExitCode.refused);
  if (refusal) throw refusal;
  if (res.failures.length) {
    throw rolloutError(ss, `prepare of ${release.version}`, res, `Nothing running was changed (prepare only fetches, checks out and builds).`);
  }
}

/** Starts the release host by host; on a failure, returns the hosts to what they ran before, then fails. */
export async function startRelease(ss: SshSession, release: ReleaseSpec): Promise<void> {
  const state = ss.readState(release.env);
  const rollout = state.rollout;
  if (!rollout || rollout.version !== release.version || rollout.commit !== release.commit) {
    // A resumed `up` of the same release keeps the first attempt's record: hosts it already
    // moved must still return to what they ran before, not to the new release.
    state.rollout = {
      version: release.version,
      commit: release.commit,
      startedAt: ss.clock().toISOString(),
      before: Object.fromEntries(ss.hosts.map((h) => [h.label, startedRef(state.hosts[h.label])])),
    };
    ss.writeState(release.env, state);
  }
  const before = state.rollout!.before;
  const res = await runRollout(ss, release.env, 'up', (h) => upHost(ss, h, release));
  if (!res.failures.length) {
    ss.update(release.env, (s) => {
      delete s.rollout;
      for (const h of ss.hosts) delete hostState(s, h.label).lastError;
    });
    return;
  }
  // A rollback that fails half-way is not undone: the hosts it reached stay on the earlier
  // release rather than go back to the one being rolled back. ReleaseSpec carries no kind
  // today; when the pipeline passes `kind: 'rollback'`, this applies.
  const isRollback = 'kind' in release && release.kind === 'rollback';
  const returned = isRollback
    ? 'This is a rollback: the hosts it reached stay on the release it returns to.'
    : await returnHosts(ss, release.env, release, ss.hosts.filter((h) => before[h.label]), (h) => before[h.label]!, release.services);
  ss.update(release.env, (s) => delete s.rollout);
  throw rolloutError(ss, `rollout of ${release.version}`, res, returned);
}

/** Stops the project on every host; on a failure, starts the hosts it stopped again (their release), then fails. */
export async function stopRelease(ss: SshSession, env: string): Promise<void> {
  const state = ss.readState(env);
  const wasRunning = new Map(ss.hosts.map((h) => [h.label, state.hosts[h.label]?.running === true ? startedRef(state.hosts[h.label]) : null]));
  const res = await runRollout(ss, env, 'down', (h) => downHost(ss, env, h));
  if (!res.failures.length) return;
  const stopped = res.done.filter((h) => wasRunning.get(h.label));
  const returned = await returnHosts(ss, env, undefined, stopped, (h) => wasRunning.get(h.label)!);
  throw rolloutError(ss, `stop of ${env}`, res, returned);
}

/** Runs `op` on the hosts in batches of `parallelism`; stops after the first batch with a failure. */
export async function runRollout(ss: SshSession, env: string, op: string, run: (h: Host) => Promise<void>): Promise<RolloutResult> {
  const result: RolloutResult = { done: [], failures: [], notReached: [] };
  const batches = rolloutBatches(ss.hosts, ss.o.spec.parallelism);
  for (const [i, batch] of batches.entries()) {
    const settled = await Promise.allSettled(batch.map((h) => run(h)));
    settled.forEach((s, j) => {
      const h = batch[j]!;
      if (s.status === 'fulfilled') result.done.push(h);
      else {
        const error = s.reason instanceof Error ? s.reason : new Error(String(s.reason));
        result.failures.push({ host: h, error });
        ss.update(env, (st) => (hostState(st, h.label).lastError = { at: ss.clock().toISOString(), op, message: error.message }));
      }
    });
    if (result.failures.length) {
      result.notReached = batches.slice(i + 1).flat();
      break;
    }
  }
  return result;
}

export function rolloutError(ss: SshSession, what: string, res: RolloutResult, after: string): ShipgateError {
  const first = res.failures[0]!;
  const others = res.failures.slice(1).map((f) => f.error.message.split('\n')[0]);
  const parts = [
    `${what} stopped at host ${first.host.label}: ${first.error.message}`,
    others.length ? `Also failed: ${others.join('; ')}.` : '',
    res.done.length ? `Done before the failure: ${res.done.map((h) => h.label).join(', ')}.` : '',
    res.notReached.length ? `Not reached: ${res.notReached.map((h) => h.label).join(', ')}.` : '',
    after,
  ];
  const hint = first.error instanceof ShipgateError ? first.error.hint : undefined;
  return failed(parts.filter(Boolean).join(' '), {
    ...(hint ? { hint } : {}),
    data: { host: first.host.label, failed: res.failures.map((f) => f.host.label), done: res.done.map((h) => h.label), notReached: res.notReached.map((h) => h.label), ...(first.error instanceof ShipgateError ? first.error.data : {}) },
  });
}
