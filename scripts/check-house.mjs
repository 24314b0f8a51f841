#!/usr/bin/env node
// House rules that keep the code light, checked over src/ (run by test/house.test.ts):
//   - no file longer than 400 lines;
//   - no import cycle between modules, through static imports and re-exports, `import type`
//     included (a type-only cycle costs nothing at run time, but it ties the files together
//     just the same); a lazy `import()` does not count.
// `node scripts/check-house.mjs [dir]` (default src/) prints what breaks a rule and exits 1, or exits 0.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const MAX_LINES = 400;

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function sourceFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return /\.tsx?$/.test(e.name) && !e.name.endsWith('.d.ts') ? [p] : [];
  });
}

// `import x from '...'`, `import { a, type B } from '...'`, `import type ...`, `export { a } from '...'`,
// `export * from '...'`, `import '...'`; not `import()`.
const STATIC = /^\s*(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\s+from\s+)?['"]([^'"]+)['"]/gm;

/** The src/ modules a file imports or re-exports from, as absolute .ts paths. */
export function staticImports(file, text) {
  return [...text.matchAll(STATIC)].map((m) => m[1]).filter((spec) => spec.startsWith('.')).map((spec) => path.resolve(path.dirname(file), spec.replace(/\.js$/, '.ts')));
}

/** Cycles found by a depth-first search, each as its modules in import order (none iff the graph has none). */
export function findCycles(graph) {
  const cycles = [];
  const state = new Map(); // 1 on the stack, 2 done
  const stack = [];
  const visit = (node) => {
    state.set(node, 1);
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (!graph.has(next)) continue;
      if (state.get(next) === 1) cycles.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(node, 2);
  };
  for (const node of [...graph.keys()].sort()) if (!state.has(node)) visit(node);
  return cycles;
}

export function checkHouse(srcDir = path.join(root, 'src')) {
  const files = sourceFiles(srcDir);
  const graph = new Map();
  const long = [];
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    const lines = text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
    if (lines > MAX_LINES) long.push({ file: path.relative(root, file), lines });
    graph.set(file, staticImports(file, text));
  }
  const cycles = findCycles(graph).map((c) => c.map((f) => path.relative(root, f)));
  return { files: files.length, long, cycles };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { files, long, cycles } = checkHouse(process.argv[2] ? path.resolve(process.argv[2]) : undefined);
  for (const l of long) console.log(`${l.file}: ${l.lines} lines (at most ${MAX_LINES}): split it into files that each do one job`);
  for (const c of cycles) console.log(`import cycle: ${c.join(' -> ')}`);
  if (long.length || cycles.length) process.exit(1);
  console.log(`${files} files: none over ${MAX_LINES} lines, no import cycle`);
}
