// What runs on the hosts and what it says: containers per host, service logs prefixed with their host.

import { composeCommands } from '../compose/commands.js';
import { plainLogLines, splitPrefixedLogs } from '../compose/parse.js';
import { startMarker, type ServiceLogs } from '../target.js';
import { withEnv } from './commands.js';
import { psHost } from './hosts.js';
import { TIMEOUTS, type SshServiceStatus, type SshSession } from './session.js';

/** Every host's containers (each with `host`); a host that cannot be asked is left out, and said so. */
export async function listContainers(ss: SshSession, env: string): Promise<SshServiceStatus[]> {
  const state = ss.readState(env);
  const out: SshServiceStatus[] = [];
  for (const h of ss.hosts) {
    try {
      out.push(...(await psHost(ss, env, h, state.hosts[h.label])));
    } catch (err) {
      ss.note(env, `ps on ${h.label}: ${(err as Error).message}`);
      ss.o.progress?.info(`[${h.label}] containers unknown: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  return out;
}

/** Last lines of each service, every line prefixed with its host (`host | line`). */
export async function serviceLogs(ss: SshSession, env: string, service: string | undefined, tail: number): Promise<ServiceLogs[]> {
  const state = ss.readState(env);
  const known = ss.hosts.map((h) => state.hosts[h.label]?.services ?? []).find((s) => s.length) ?? [];
  const names = service ? [service] : known.map((s) => s.name);
  const byService = new Map(names.map((n) => [n, [] as string[]]));
  const startedAt = new Map<string, string>();
  let complete = true;
  const version = ss.hosts.map((h) => state.hosts[h.label]).find((s) => s?.running)?.version;
  for (const h of ss.hosts) {
    const hs = state.hosts[h.label];
    if (!hs?.variables || !hs.version) continue;
    try {
      const inv = await ss.invocation(env, h);
      const res = await ss.exec(env, h, withEnv(hs.variables, composeCommands.logs(inv, tail, service)), { display: ss.composeDisplay(hs.version, composeCommands.logs(inv, tail, service)), timeoutMs: TIMEOUTS.other });
      const lines = service ? new Map([[service, plainLogLines(res.stdout)]]) : splitPrefixedLogs(res.stdout, names);
      for (const name of names) {
        const mine = (lines.get(name) ?? []).slice(-tail);
        if (mine.length >= tail) complete = false;
        byService.get(name)!.push(...mine.map((l) => `${h.label} | ${l}`));
      }
      for (const c of hs.running ? await psHost(ss, env, h, hs) : []) {
        if (c.startedAt && (startedAt.get(c.service) ?? '') < c.startedAt) startedAt.set(c.service, c.startedAt);
      }
    } catch (err) {
      complete = false;
      for (const name of names) byService.get(name)!.push(`${h.label} | (no logs: ${(err as Error).message.split('\n')[0]})`);
    }
  }
  return names.map((name) => {
    const lines = byService.get(name)!;
    // Container logs hold one release only: the marker tells the monitor where it starts.
    const at = startedAt.get(name);
    if (version && at && complete) lines.unshift(`${startMarker(name, version)} at ${at}`);
    return { service: name, lines };
  });
}
