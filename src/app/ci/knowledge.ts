import { readFileSync } from 'node:fs';
import { installedFile } from '../../adapters/host/install.js';
import type { ShipgateConfig } from '../../config/schema.js';
import { CauseError, compileCauses, type Cause, type CauseSpec } from '../../core/ci/causes.js';
import { badInput } from '../../core/errors.js';

/**
 * The knowledge base shipped with shipgate (found from src/, dist/ and the bundle alike): the JSON that
 * `npm run build` writes from data/ci-causes.yml, so triage parses no YAML and loads no schema library at
 * start-up. test/ci-causes-json.test.ts keeps the two the same and validates the JSON against the schema.
 */
export const shippedCausesFile = (): string => installedFile('data', 'ci-causes.json');

let shipped: Cause[] | undefined;

/** The project's causes (`ci.causes`, tried first; already validated with the config), then the shipped ones. */
export function loadCauses(config: ShipgateConfig | null): Cause[] {
  const own = config?.ci?.causes ?? [];
  try {
    const project = compileCauses(own, (i) => `shipgate.yml: ci.causes[${i}]`);
    return [...project, ...(shipped ??= readShippedCauses(shippedCausesFile()))];
  } catch (err) {
    if (err instanceof CauseError) throw badInput(err.message, { where: err.where, hint: 'Fix the pattern; it is a JavaScript regular expression.' });
    throw err;
  }
}

function readShippedCauses(file: string): Cause[] {
  let causes: CauseSpec[];
  try {
    causes = (JSON.parse(readFileSync(file, 'utf8')) as { causes: CauseSpec[] }).causes;
  } catch (err) {
    throw badInput(`cannot read the CI knowledge base: ${(err as Error).message}`, { where: file, hint: 'Reinstall shipgate, or run npm run build in its directory (it writes this file from data/ci-causes.yml).' });
  }
  return compileCauses(causes, (i) => `data/ci-causes.yml: causes[${i}] (${causes[i]!.id})`);
}
