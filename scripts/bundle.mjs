#!/usr/bin/env node
// `npm run build` step 3 (after tsc): bundles the compiled CLI (dist/cli/main.js) with its npm
// dependencies into dist/bundle/, which bin/shipgate runs. Loading ~800 small ES modules cost a
// command most of its start-up (issue 15); the bundle is a few dozen chunks, split where the code
// does `await import(...)`, so a command still loads only what it uses. CommonJS, not ES modules:
// an ES `import` of a built-in such as node:fs reads every export of it, which loads its lazy parts
// (streams, fs/promises, readline; undici for node:http). Writes
// dist/bundle/modules.json (chunk -> the modules in it) for test/cli-start.test.ts.
// Left out of the bundle: Node's built-ins, better-sqlite3 (a native addon loaded with require)
// and demo/stack/*.mjs (scripts that find their files next to themselves).
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outDir = path.join(root, 'dist', 'bundle');

const external = (id) => id.startsWith('node:') || id === 'better-sqlite3' || /[/\\]demo[/\\]stack[/\\]/.test(id);

// commander requires node:child_process (and with it net, dgram and streams) at load, for
// executable subcommands, which shipgate does not have: required when first used instead.
const EAGER_CHILD_PROCESS = "const childProcess = require('node:child_process');";
const lazyChildProcess = {
  name: 'commander-lazy-child-process',
  transform(code, id) {
    if (!/[/\\]commander[/\\]lib[/\\]command\.js$/.test(id)) return null;
    if (!code.includes(EAGER_CHILD_PROCESS)) throw new Error(`scripts/bundle.mjs: ${id} no longer has ${EAGER_CHILD_PROCESS}`);
    return code.replace(EAGER_CHILD_PROCESS, "const childProcess = { spawn: (...args) => require('node:child_process').spawn(...args) };");
  },
};

rmSync(outDir, { recursive: true, force: true });
// rolldown's native binary is an optional dependency: an install without optional packages
// (`npm ci --omit=optional`) has none. Then there is no bundle and bin/shipgate runs dist/.
let build;
try {
  ({ build } = await import('rolldown'));
} catch (err) {
  process.stderr.write(`bundle: skipped, rolldown cannot load (${String(err?.message ?? err).split('\n')[0]}): bin/shipgate runs dist/, which starts slower\n`);
  process.exit(0);
}
const { output } = await build({
  cwd: root,
  input: { main: path.join(root, 'dist', 'cli', 'main.js') },
  platform: 'node',
  external,
  plugins: [lazyChildProcess],
  logLevel: 'warn',
  output: {
    dir: outDir,
    format: 'cjs',
    entryFileNames: '[name].cjs',
    chunkFileNames: '[name]-[hash].cjs',
    // The command files in one chunk: --help needs them all, and one file loads faster than 19;
    // a command registers only its own group from it (src/cli/main.ts).
    codeSplitting: { groups: [{ name: 'commands', test: /[/\\]dist[/\\]cli[/\\]commands[/\\]/ }] },
  },
});

const relative = (id) => path.relative(root, id.replace(/^\0/, '')).split(path.sep).join('/');
const modules = Object.fromEntries(output.filter((o) => o.type === 'chunk').map((c) => [c.fileName, c.moduleIds.map(relative)]));
writeFileSync(path.join(outDir, 'modules.json'), `${JSON.stringify(modules, null, 1)}\n`);
process.stderr.write(`bundle: ${Object.keys(modules).length} chunks in ${path.relative(root, outDir)}\n`);
