import type { DeploymentRecord, Store } from '../adapters/store/store.js';
import { isAlive } from '../adapters/targets/process/pids.js';

/** The version an environment runs: the last deployment (or rollback) that verified healthy. */
export async function currentVersion(store: Store, env: string): Promise<string | undefined> {
  return currentVersionIn(await recentDeployments(store, env));
}

/** The deployments currentVersion and lastGoodVersion look through, newest first. */
export function recentDeployments(store: Store, env: string): Promise<DeploymentRecord[]> {
  return store.listDeployments({ env, limit: 200 });
}

/** currentVersion over deployments already read (recentDeployments), newest first. */
export function currentVersionIn(recent: DeploymentRecord[]): string | undefined {
  const last = recent.find((d) => d.state === 'succeeded');
  return last?.kind === 'stop' ? undefined : last?.version;
}

/**
 * The newest version that verified healthy here, is not `excluding`, and is not marked bad. A
 * release is marked bad here when it failed verification, its soak failed, its monitor triggered,
 * or it was rolled back from here; only a later soak or monitor of it that passes clears that.
 * A release whose soak or monitor ended inconclusive (or was cut short) is not bad, but not
 * proven good either: `unprovenBecause` says so, and `status` shows it.
 */
export async function lastGoodVersion(store: Store, env: string, excluding: string | undefined): Promise<string | undefined> {
  return lastGoodVersionIn(store, env, await recentDeployments(store, env), excluding);
}

/** lastGoodVersion over deployments already read (recentDeployments), newest first. */
export async function lastGoodVersionIn(store: Store, env: string, recent: DeploymentRecord[], excluding: string | undefined): Promise<string | undefined> {
  for (const d of recent) {
    if (d.state !== 'succeeded' || d.kind === 'stop' || d.version === excluding) continue;
    const release = await store.getRelease(env, d.version);
    if (release?.verdict === 'bad') continue;
    return d.version;
  }
  return undefined;
}

export type DeploymentLiveness = 'running' | 'interrupted' | 'finished';

export function deploymentLiveness(d: DeploymentRecord, host: string): DeploymentLiveness {
  if (d.state !== 'running') return 'finished';
  // On another host we cannot see the process; the environment lock's lease decides there.
  if (d.host !== host) return 'running';
  return isAlive(d.pid) ? 'running' : 'interrupted';
}

export async function latestDeployment(store: Store, env: string): Promise<DeploymentRecord | undefined> {
  return (await store.listDeployments({ env, limit: 1 }))[0];
}

/** Why a release that is not bad is still not proven good here: its newest finished soak or monitor did not pass. */
export async function unprovenBecause(store: Store, env: string, version: string): Promise<string | undefined> {
  const watches = await store.listWatches({ env, limit: 200 });
  const last = watches.find((w) => w.version === version && w.state !== 'running');
  if (!last || last.state === 'passed') return undefined;
  return `its ${last.kind} #${last.id} ended ${last.state}`;
}
