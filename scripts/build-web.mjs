// Builds the dashboard (web/) into dist/web with Vite. Vite runs on rolldown, whose native binary is
// an optional dependency: an install without optional packages (`npm ci --omit=optional`) has none.
// Then the dashboard is skipped, saying so; `shipgate serve --http` serves the API and answers /
// with how to build it. Any other failure (a broken web/src) fails the build.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
let build;
try {
  ({ build } = await import('vite'));
} catch (err) {
  process.stderr.write(`dashboard: skipped, vite cannot load (${String(err?.message ?? err).split('\n')[0]}): \`shipgate serve --http\` serves the API only\n`);
  process.exit(0);
}
await build({ configFile: path.join(root, 'web', 'vite.config.mjs'), logLevel: 'warn' });
