import type { ConfigRule, RuleFinding } from './rule.js';

/**
 * NUL and line breaks in a value end up in argv, headers, log lines and audit records, where
 * they cut or forge lines; no field of shipgate.yml needs them.
 */
export const controlCharactersRule: ConfigRule = ({ config }) => {
  const found: RuleFinding[] = [];
  // One path, pushed and popped while walking: copied only for a finding (a big file has millions of values).
  const path: (string | number)[] = [];
  const walk = (value: unknown) => {
    if (typeof value === 'string') {
      if (/[\0\n\r]/.test(value)) found.push({ path: [...path], message: `contains a ${value.includes('\0') ? 'NUL byte' : 'line break'}`, hint: 'Write the value on one line without control characters (in YAML, a | or > block adds line breaks).' });
      return;
    }
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        path.push(i);
        walk(value[i]);
        path.pop();
      }
      return;
    }
    if (value && typeof value === 'object') {
      for (const k in value) {
        if (!Object.hasOwn(value, k)) continue;
        path.push(k);
        if (/[\0\n\r]/.test(k)) found.push({ path: [...path], at: 'key', message: 'the name contains a NUL byte or a line break', hint: 'Rename it without control characters.' });
        walk((value as Record<string, unknown>)[k]);
        path.pop();
      }
    }
  };
  walk(config);
  return found;
};
