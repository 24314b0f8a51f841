import type { ConfigRule, RuleFinding } from './rule.js';

/** ssh and git read a leading `-` as an option (`-oProxyCommand=…`): never a host, user or remote. */
export const sshOptionsRule: ConfigRule = ({ config }) => {
  const found: RuleFinding[] = [];
  for (const [env, e] of Object.entries(config.environments)) {
    const t = e.target;
    if (t.type !== 'ssh') continue;
    t.hosts.forEach((h, i) => {
      if (h.host.startsWith('-')) found.push({ path: ['environments', env, 'target', 'hosts', i, 'host'], message: `host "${h.host}" begins with "-", which ssh reads as an option`, hint: 'Use a DNS name or an IP address, e.g. prod-1.example.com.' });
      if (h.user.startsWith('-')) found.push({ path: ['environments', env, 'target', 'hosts', i, 'user'], message: `user "${h.user}" begins with "-", which ssh reads as an option`, hint: 'Use the remote account name, e.g. deploy.' });
    });
    if (t.remote.startsWith('-')) found.push({ path: ['environments', env, 'target', 'remote'], message: `remote "${t.remote}" begins with "-", which git reads as an option`, hint: 'Use the name of the git remote on the hosts, e.g. origin.' });
  }
  return found;
};
