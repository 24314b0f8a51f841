// The control room's dashboard: static files built into dist/web and served by the API server at /.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = path.dirname(fileURLToPath(import.meta.url));

export default defineConfig({
  root: here,
  base: './',
  logLevel: 'warn',
  build: { outDir: path.join(here, '..', 'dist', 'web'), emptyOutDir: true, assetsInlineLimit: 0, chunkSizeWarningLimit: 200 },
});
