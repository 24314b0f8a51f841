import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';
import { ciCauseFile } from '../../config/schema/ci.js';
import type { ShipgateConfig } from '../../config/schema.js';
import { CauseError, compileCauses, type Cause } from '../../core/ci/causes.js';
import { badInput } from '../../core/errors.js';

/** The knowledge base shipped with shipgate (same path from src/app/ci and dist/app/ci). */
export const SHIPPED_CAUSES_FILE = fileURLToPath(new URL('../../../data/ci-causes.yml', import.meta.url));

let shipped: Cause[] | undefined;

/** The project's causes (`ci.causes`, tried first), then the shipped ones. */
export function loadCauses(config: ShipgateConfig | null, file = SHIPPED_CAUSES_FILE): Cause[] {
  const own = config?.ci?.causes ?? [];
  try {
    const project = compileCauses(own, (i) => `shipgate.yml: ci.causes[${i}]`);
    return [...project, ...(file === SHIPPED_CAUSES_FILE ? (shipped ??= readCauseFile(file)) : readCauseFile(file))];
  } catch (err) {
    if (err instanceof CauseError) throw badInput(err.message, { where: err.where, hint: 'Fix the pattern; it is a JavaScript regular expression.' });
    throw err;
  }
}

function readCauseFile(file: string): Cause[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw badInput(`cannot read the CI knowledge base: ${(err as Error).message}`, { where: file, hint: 'Reinstall shipgate; the file ships with it.' });
  }
  const doc = parseDocument(text);
  if (doc.errors.length) throw badInput(`the CI knowledge base is not valid YAML: ${doc.errors[0]!.message}`, { where: file });
  const parsed = ciCauseFile.safeParse(doc.toJS());
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw badInput(`the CI knowledge base is invalid: ${issue.message}`, { where: `${file}: ${issue.path.join('.')}` });
  }
  return compileCauses(parsed.data.causes, (i) => `${file}: causes[${i}] (${parsed.data.causes[i]!.id})`);
}
