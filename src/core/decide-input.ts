// `shipgate decide`'s inputs from its flags or from GET /api/decide's query: the same parsing, the
// same errors, named in the caller's words (--fix-eta, or fixEta).
import { parseDuration } from './duration.js';
import { badInput } from './errors.js';
import type { DecisionInput } from './decide.js';

export interface DecideOptions {
  affected?: string | undefined;
  dataIntegrityAtRisk?: boolean | undefined;
  rootCauseKnown?: boolean | undefined;
  fixEta?: string | undefined;
  components?: string | undefined;
  fixTested?: boolean | undefined;
  rollbackLosesData?: boolean | undefined;
  nonCritical?: boolean | undefined;
  critical?: boolean | undefined;
}

/** How a field is named to the caller: a CLI flag (--fix-eta) or a query parameter (fixEta). */
export type FieldStyle = 'flag' | 'query';
const named = (name: string, style: FieldStyle) => (style === 'query' ? name : `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);

/** Options to decision inputs; one left out stays undefined (unknown). Bad values are bad input (exit 2, 400). */
export function decisionInput(opts: DecideOptions, style: FieldStyle = 'flag'): DecisionInput {
  const input: DecisionInput = {};
  if (opts.affected !== undefined) input.affectedShare = parseShare(opts.affected, named('affected', style));
  if (opts.dataIntegrityAtRisk !== undefined) input.dataIntegrityAtRisk = opts.dataIntegrityAtRisk;
  if (opts.rootCauseKnown !== undefined) input.rootCauseKnown = opts.rootCauseKnown;
  if (opts.fixEta !== undefined) input.fixEtaMinutes = parseEtaMinutes(opts.fixEta, named('fixEta', style));
  if (opts.components !== undefined) input.componentsAffected = parseCount(opts.components, named('components', style));
  if (opts.fixTested !== undefined) input.fixAvailableAndTested = opts.fixTested;
  if (opts.rollbackLosesData !== undefined) input.rollbackLosesData = opts.rollbackLosesData;
  if (opts.critical && opts.nonCritical === true) {
    throw badInput('--critical and --non-critical contradict each other', { where: '--critical', hint: 'Give one of them (or neither, if you do not know).' });
  }
  if (opts.critical !== undefined && style === 'query') input.criticalFeature = opts.critical;
  else if (opts.critical) input.criticalFeature = true;
  else if (opts.nonCritical !== undefined) input.criticalFeature = !opts.nonCritical;
  return input;
}

function parseCount(value: string, field: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw badInput(`${field} must be a positive whole number, got ${JSON.stringify(value)}`, { where: field, hint: `For example ${field} 2.` });
  return n;
}

function parseShare(value: string, flag: string): number {
  const text = value.trim();
  const percent = /^(\d+(?:\.\d+)?)\s*%$/.exec(text);
  const share = percent ? Number(percent[1]) / 100 : /^(\d+(?:\.\d+)?|\.\d+)$/.test(text) ? Number(text) : NaN;
  if (!Number.isFinite(share) || share < 0 || share > 1) {
    const bare = Number(text);
    const hint = !percent && Number.isFinite(bare) && bare > 1 && bare <= 100 ? `Did you mean ${flag} ${text}%?` : `Give a share between 0 and 1 or a percentage, e.g. ${flag} 0.3 or ${flag} 30%.`;
    throw badInput(`${flag} must be a share between 0 and 1 or a percentage from 0% to 100%, got ${JSON.stringify(value)}`, { where: flag, hint });
  }
  return share;
}

function parseEtaMinutes(value: string, flag: string): number {
  const text = value.trim();
  // A bare number would mean seconds elsewhere in shipgate, which is never what "fix ETA 45" means.
  const ms = /[a-z]$/i.test(text) ? parseDuration(text) : undefined;
  if (ms === undefined) {
    throw badInput(`${flag} must be a duration with a unit, got ${JSON.stringify(value)}`, { where: flag, hint: `For example ${flag} 45m or ${flag} 2h.` });
  }
  return ms / 60_000;
}
