#!/usr/bin/env node
// A CPU hog for proving that tests do not depend on machine speed: one busy loop per core
// (or --workers N), for a bounded time (--seconds S, default 600), then it exits by itself.
//   node scripts/cpu-hog.mjs --seconds 900 & HOG=$!
//   npx vitest run test/compose.test.ts test/ssh.test.ts
//   kill $HOG
import os from 'node:os';
import { Worker } from 'node:worker_threads';

function flag(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  const value = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isFinite(value) || value <= 0) {
    process.stderr.write(`--${name} must be a positive number\n`);
    process.exit(2);
  }
  return value;
}

const seconds = flag('seconds', 600);
const workers = flag('workers', os.availableParallelism?.() ?? os.cpus().length);
const until = Date.now() + seconds * 1000;
const spin = `const { workerData } = require('node:worker_threads'); let x = 0; while (Date.now() < workerData) { for (let i = 0; i < 1e6; i++) x = (x * 31 + i) | 0; }`;
const threads = Array.from({ length: workers }, () => new Worker(spin, { eval: true, workerData: until }));
process.stderr.write(`cpu-hog: ${workers} busy loops for ${seconds}s (pid ${process.pid})\n`);
const stop = () => Promise.all(threads.map((t) => t.terminate())).then(() => process.exit(0));
setTimeout(stop, seconds * 1000);
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
