import { isInfrastructureImage } from '../compose/infrastructure.js';
import type { ConfigRule, RuleFinding } from './rule.js';
import { composeFilesByEnv } from './compose-files.js';
import { serviceUrls } from './service-urls.js';

/**
 * Databases, caches and monitoring do not answer shipgate's HTTP health or metrics on their
 * service port: such a URL always fails (or, worse, hits something else). Infrastructure is a
 * service listed in target.dependencies, or one whose compose image is recognised as such.
 */
export const infrastructureUrlsRule: ConfigRule = ({ config, dir }) => {
  const infra = new Map<string, string>();
  for (const { target, model } of composeFilesByEnv(config, dir)) {
    for (const name of target.dependencies) infra.set(name, 'it is listed in target.dependencies');
    for (const [name, s] of Object.entries(model?.services ?? {})) {
      const image = typeof s.image === 'string' ? s.image : undefined;
      if (isInfrastructureImage(image) && !infra.has(name)) infra.set(name, `its image ${image} is infrastructure`);
    }
  }
  const found: RuleFinding[] = [];
  for (const u of serviceUrls(config)) {
    const why = infra.get(u.service);
    if (why && /^https?:/i.test(u.url.trim())) {
      found.push({ path: u.path, message: `${u.service} is infrastructure (${why}) but has an HTTP ${u.kind} URL`, hint: `Remove ${u.kind}: from ${u.service}; compose reports its container state${u.kind === 'metrics' ? ', and its metrics come from an exporter service' : ''}.` });
    }
  }
  return found;
};
