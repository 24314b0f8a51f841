import type { ConfigRule } from './rule.js';
import { serviceUrls } from './service-urls.js';

/** Health and metrics are read over HTTP: a `file:` or `data:` URL would be "evidence" shipgate made up itself. */
export const urlSchemeRule: ConfigRule = ({ config }) =>
  serviceUrls(config)
    .filter((u) => !/^https?:\/\//i.test(u.url.trim()))
    .map((u) => ({
      path: u.path,
      message: `the ${u.kind} URL of ${u.service} is not an http(s) URL: ${JSON.stringify(u.url.slice(0, 60))}`,
      hint: `Use the URL the service answers on, e.g. http://127.0.0.1:{port}/${u.kind === 'health' ? 'health' : 'metrics'}; file: and data: URLs are not evidence from the service.`,
    }));
