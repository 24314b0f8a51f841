import { z } from 'zod';
import { FAILURE_CATEGORIES } from '../../core/ci/causes.js';
import { argv } from './primitives.js';

const regexSource = z.string().min(1).refine(
  (s) => {
    try {
      new RegExp(s);
      return true;
    } catch {
      return false;
    }
  },
  { message: 'not a valid JavaScript regular expression', params: { hint: 'Escape special characters with a backslash, e.g. "error\\[E\\d+\\]".' } },
);

/** One failure cause of the knowledge base (data/ci-causes.yml has the same shape). */
export const ciCause = z.strictObject({
  id: z.string().min(1).describe('A short name, shown in errors.'),
  pattern: regexSource.describe('Regular expression over one log line; named groups file, line and test are extracted.'),
  flags: z.string().regex(/^[imsu]*$/, 'flags are i, m, s or u').optional(),
  category: z.enum(FAILURE_CATEGORIES),
  tool: z.string().min(1).optional(),
  hint: z.string().min(1).optional().describe('The fix; {files} is replaced by the files the errors name.'),
  role: z.enum(['error', 'evidence', 'detail', 'pass']).default('error'),
  keywords: z.array(z.string().min(2)).min(1).optional().describe('Literals every matching line contains (derived from pattern when absent).'),
  firstError: z.enum(['line', 'next-line', 'previous-line']).default('line'),
  fileFrom: regexSource.optional().describe('Pattern of a header line above the match that names the file (group file).'),
  previousLine: regexSource.optional().describe('Pattern the output line before the match must match for the cause to apply (ruff: the rule line above its --> location).'),
  dropsLastTest: z.boolean().default(false),
});

export const ciSpec = z.strictObject({
  causes: z.array(ciCause).default([]).describe('Project failure causes, tried before the shipped ones.'),
  local: z
    .array(z.strictObject({ name: z.string().min(1), command: argv, cwd: z.string().default('.') }))
    .default([])
    .describe('The local CI steps (`make ci-local`): run by `shipgate ci local`, and the reproduce command of a plain log.'),
});

export const ciCauseFile = z.strictObject({ causes: z.array(ciCause) });
