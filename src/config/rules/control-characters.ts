import type { ConfigRule, RuleFinding } from './rule.js';

/**
 * NUL and line breaks in a value end up in argv, headers, log lines and audit records, where
 * they cut or forge lines; no field of shipgate.yml needs them.
 */
export const controlCharactersRule: ConfigRule = ({ config }) => {
  const found: RuleFinding[] = [];
  const walk = (value: unknown, path: (string | number)[]) => {
    if (typeof value === 'string') {
      if (/[\0\n\r]/.test(value)) found.push({ path, message: `contains a ${value.includes('\0') ? 'NUL byte' : 'line break'}`, hint: 'Write the value on one line without control characters (in YAML, a | or > block adds line breaks).' });
      return;
    }
    if (Array.isArray(value)) return value.forEach((v, i) => walk(v, [...path, i]));
    if (value && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) {
        if (/[\0\n\r]/.test(k)) found.push({ path: [...path, k], at: 'key', message: 'the name contains a NUL byte or a line break', hint: 'Rename it without control characters.' });
        walk(v, [...path, k]);
      }
    }
  };
  walk(config, []);
  return found;
};
