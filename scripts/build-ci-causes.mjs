#!/usr/bin/env node
// Writes data/ci-causes.json from data/ci-causes.yml (run by `npm run build`): the CLI reads the
// shipped knowledge base as JSON, so `ci triage` loads no YAML parser at start-up. The YAML stays
// the file people edit; test/ci-causes-json.test.ts fails when the two differ and validates the
// result against the `ci.causes` schema. `node scripts/build-ci-causes.mjs --check` exits 1 when
// the JSON is stale instead of writing it.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const CAUSES_YAML = path.join(root, 'data', 'ci-causes.yml');
export const CAUSES_JSON = path.join(root, 'data', 'ci-causes.json');

/** The JSON text for the YAML text: `{"causes": [...]}`, one cause per line. */
export function causesJson(yamlText) {
  const doc = parseDocument(yamlText);
  if (doc.errors.length) throw new Error(`data/ci-causes.yml is not valid YAML: ${doc.errors[0].message}`);
  const { causes } = doc.toJS();
  if (!Array.isArray(causes)) throw new Error('data/ci-causes.yml: causes must be a list');
  return `{"generatedFrom": "data/ci-causes.yml (edit that file; npm run build rewrites this one)", "causes": [\n${causes.map((c) => JSON.stringify(c)).join(',\n')}\n]}\n`;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const text = causesJson(readFileSync(CAUSES_YAML, 'utf8'));
  if (process.argv.includes('--check')) {
    let current = '';
    try {
      current = readFileSync(CAUSES_JSON, 'utf8');
    } catch {
      // missing: stale
    }
    if (current !== text) {
      process.stderr.write('data/ci-causes.json is out of date with data/ci-causes.yml: run npm run build\n');
      process.exit(1);
    }
  } else writeFileSync(CAUSES_JSON, text);
}
