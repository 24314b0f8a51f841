import { forEachEntry, type ConfigRule, type RuleFinding } from './rule.js';

/** Two services of one environment on one port: the second cannot start, or its checks reach the first. */
export const duplicatePortsRule: ConfigRule = ({ config }) => {
  const found = new Map<string, RuleFinding>();
  for (const [env, e] of Object.entries(config.environments)) {
    const owner = new Map<number, string>();
    forEachEntry(config.services, (name, base) => {
      const override = e.services[name]?.port;
      const port = override ?? base.port;
      if (port === undefined) return;
      const first = owner.get(port);
      if (first === undefined) {
        owner.set(port, name);
        return;
      }
      const path = override !== undefined ? ['environments', env, 'services', name, 'port'] : ['services', name, 'port'];
      const key = path.join('.');
      if (!found.has(key)) {
        found.set(key, { path, message: `${name} and ${first} both use port ${port} in ${env}`, hint: `Give ${name} its own port${override !== undefined ? '' : `, or override it in environments.${env}.services.${name}`}.` });
      }
    });
  }
  return [...found.values()];
};
