// For services whose health does not report their release (`health.version: ignore`): on every
// host, each container of the service runs the image the release's compose config names there.

import { composeCommands } from '../compose/commands.js';
import { compareReleaseImages } from '../compose/compare.js';
import { parseComposeConfig } from '../compose/config-output.js';
import { activeServices } from '../compose/parse.js';
import type { ImageCheck, ReleaseSpec } from '../target.js';
import { withEnv } from './commands.js';
import { psHost } from './hosts.js';
import { TIMEOUTS, type SshSession } from './session.js';

/** One check per service: ok only when every host runs the release's image; a host that cannot be asked is not ok. */
export async function verifyReleaseImages(ss: SshSession, release: ReleaseSpec, services: string[]): Promise<ImageCheck[]> {
  const env = release.env;
  const perService = new Map(services.map((s) => [s, [] as { ok: boolean; detail: string }[]]));
  for (const h of ss.hosts) {
    try {
      const inv = await ss.invocation(env, h);
      const config = composeCommands.config(inv);
      const res = await ss.exec(env, h, withEnv(ss.variables(release), config), { display: ss.composeDisplay(release.version, config), timeoutMs: TIMEOUTS.other });
      const expected = activeServices(parseComposeConfig(res.stdout), ss.o.spec.profiles ?? []).filter((s) => perService.has(s.name));
      const containers = await psHost(ss, env, h, ss.readState(env).hosts[h.label]);
      for (const c of compareReleaseImages(expected, containers)) perService.get(c.service)!.push({ ok: c.ok, detail: `${h.label}: ${c.detail}` });
      for (const s of services.filter((name) => !expected.some((e) => e.name === name))) perService.get(s)!.push({ ok: false, detail: `${h.label}: ${s} is not a service of the release's compose config` });
    } catch (err) {
      for (const s of services) perService.get(s)!.push({ ok: false, detail: `${h.label}: not checked: ${(err as Error).message.split('\n')[0]}` });
    }
  }
  return services.map((service) => {
    const found = perService.get(service)!;
    const bad = found.filter((f) => !f.ok);
    const ok = bad.length === 0 && found.length === ss.hosts.length;
    return { service, ok, detail: ok ? `${found.length}/${ss.hosts.length} hosts: ${found.map((f) => f.detail).join('; ')}` : bad.map((f) => f.detail).join('; ') };
  });
}
