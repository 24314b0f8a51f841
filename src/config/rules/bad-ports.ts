import { forEachEntry, type ConfigRule, type RuleFinding } from './rule.js';
import { serviceUrls, urlPort } from './service-urls.js';

// The ports Node's HTTP client (fetch) refuses with "bad port" (the WHATWG fetch list; checked against Node 20).
export const NODE_BAD_PORTS = new Set([
  1, 7, 9, 11, 13, 15, 17, 19, 20, 21, 22, 23, 25, 37, 42, 43, 53, 69, 77, 79, 87, 95, 101, 102, 103, 104, 109, 110, 111, 113, 115, 117, 119, 123, 135, 137, 139, 143, 161, 179, 389, 427, 465, 512, 513, 514, 515, 526, 530, 531, 532, 540, 548, 554, 556, 563, 587, 601, 636, 989, 990, 993, 995, 1719, 1720, 1723, 2049, 3659, 4045, 4190, 5060, 5061, 6000, 6566, 6665, 6666, 6667, 6668, 6669, 6679, 6697, 10080,
]);

const hint = (port: number) => `Node's HTTP client refuses port ${port} ("bad port"), so shipgate could never check it: move the service to another port, e.g. ${port + 1 < 65536 && !NODE_BAD_PORTS.has(port + 1) ? port + 1 : 8080}.`;

/** A port Node's fetch refuses: every health check of it would fail, whatever the service does. */
export const badPortsRule: ConfigRule = ({ config }) => {
  const found: RuleFinding[] = [];
  forEachEntry(config.services, (name, s) => {
    if (s.port !== undefined && NODE_BAD_PORTS.has(s.port)) found.push({ path: ['services', name, 'port'], message: `port ${s.port} of ${name} is one Node's HTTP client refuses`, hint: hint(s.port) });
  });
  for (const [env, e] of Object.entries(config.environments)) {
    forEachEntry(e.services, (name, o) => {
      if (o.port !== undefined && NODE_BAD_PORTS.has(o.port)) found.push({ path: ['environments', env, 'services', name, 'port'], message: `port ${o.port} of ${name} in ${env} is one Node's HTTP client refuses`, hint: hint(o.port) });
    });
  }
  for (const u of serviceUrls(config)) {
    if (u.url.includes('{port}')) continue; // the service's port, checked above
    const port = urlPort(u.url, undefined);
    if (port !== undefined && NODE_BAD_PORTS.has(port)) found.push({ path: u.path, message: `the ${u.kind} URL of ${u.service} uses port ${port}, which Node's HTTP client refuses`, hint: hint(port) });
  }
  return found;
};
