import { badInput } from '../core/errors.js';
import { assertVersionSyntax } from '../core/version.js';
import { record } from './audit.js';
import type { AppContext } from './context.js';
import { notify } from './notify.js';

/**
 * `shipgate announce VERSION` and POST /api/announce: tell stakeholders a release is coming (the
 * seed's "Stakeholders notified"). Recorded as release.announce; each delivery is then recorded as
 * notify.sent or notify.failed, and preflight counts a delivered one.
 */
export async function announceRelease(ctx: AppContext, req: { version: string; env: string; message: string }): Promise<{ ok: true; version: string; env: string }> {
  const version = assertVersionSyntax(req.version);
  ctx.environment(req.env);
  const message = req.message.trim();
  if (!message) throw badInput('an announcement needs a message', { where: '--message', hint: 'e.g. --message "Deploying v1.3.0 to production at 6pm ET (after market close)"' });
  if (!ctx.config.notifications.length) throw badInput('no notifications are configured', { where: 'shipgate.yml: notifications', hint: 'Add a slack or webhook notifier, or attest instead: shipgate preflight VERSION --attest stakeholders-notified --by NAME.' });
  await record(ctx, { action: 'release.announce', outcome: 'sending', env: req.env, version, reason: message });
  notify(ctx, { event: 'release.announced', env: req.env, version, reason: message });
  return { ok: true, version, env: req.env };
}
