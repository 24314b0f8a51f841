#!/usr/bin/env node
// `npm run bench`: runs every benchmark module in bench/ (each exports `run()` returning a
// JSON-able result) against the built code in dist/, and writes bench/results/<name>.json.
// Speed targets live here, never in tests. `npm run bench -- parser` runs only that one.
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const modules = readdirSync(here).filter((f) => f.endsWith('.bench.mjs')).filter((f) => !only.length || only.includes(f.replace('.bench.mjs', '')));
const resultsDir = path.join(here, 'results');
mkdirSync(resultsDir, { recursive: true });

const machine = { node: process.version, cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memoryGiB: Math.round(os.totalmem() / 2 ** 30) };
const all = {};
for (const file of modules) {
  const name = file.replace('.bench.mjs', '');
  process.stderr.write(`bench ${name}...\n`);
  const started = Date.now();
  const mod = await import(pathToFileURL(path.join(here, file)).href);
  const result = await mod.run();
  const record = { name, at: new Date().toISOString(), machine, tookSeconds: (Date.now() - started) / 1000, result };
  writeFileSync(path.join(resultsDir, `${name}.json`), `${JSON.stringify(record, null, 2)}\n`);
  all[name] = record;
}
process.stdout.write(`${JSON.stringify(all, null, 2)}\n`);
