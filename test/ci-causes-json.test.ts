// The shipped knowledge base is read at run time from data/ci-causes.json (no YAML parser at
// start-up); people edit data/ci-causes.yml and `npm run build` rewrites the JSON. This keeps the two
// the same and the JSON valid against the schema `ci.causes` uses.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadCauses, shippedCausesFile } from '../src/app/ci/knowledge.js';
import { ciCauseFile } from '../src/config/schema/ci.js';
import { ROOT } from './harness/cli.js';

// @ts-expect-error: a plain .mjs script without types
const { causesJson } = (await import('../scripts/build-ci-causes.mjs')) as { causesJson(yaml: string): string };

const yamlText = readFileSync(path.join(ROOT, 'data', 'ci-causes.yml'), 'utf8');
const jsonText = readFileSync(path.join(ROOT, 'data', 'ci-causes.json'), 'utf8');

describe('data/ci-causes.json, built from data/ci-causes.yml', () => {
  it('is what the build writes from the YAML now (else: npm run build)', () => {
    expect(jsonText).toBe(causesJson(yamlText));
    expect(shippedCausesFile()).toBe(path.join(ROOT, 'data', 'ci-causes.json'));
  });

  it('holds the YAML causes unchanged, and they pass the schema ci.causes is checked with', () => {
    const fromJson = (JSON.parse(jsonText) as { causes: unknown[] }).causes;
    expect(fromJson).toEqual((parse(yamlText) as { causes: unknown[] }).causes);
    const parsed = ciCauseFile.safeParse({ causes: fromJson });
    expect(parsed.success ? [] : parsed.error.issues).toEqual([]);
  });

  it('compiles every cause, each with a keyword to look for', () => {
    const causes = loadCauses(null);
    expect(causes.length).toBe((parse(yamlText) as { causes: unknown[] }).causes.length);
    expect(causes.filter((c) => c.keywords.length === 0).map((c) => c.id)).toEqual([]);
  });
});
