/**
 * Compose variable interpolation, as the compose specification defines it: `$VAR`, `${VAR}`,
 * `${VAR:-default}` / `${VAR-default}`, `${VAR:?error}` / `${VAR?error}`, `${VAR:+alt}` /
 * `${VAR+alt}`, `$$` for a literal `$`; defaults may nest (`${A:-${B:-x}}`), which the Python
 * docker-compose 1.x gets wrong.
 */
export interface InterpolationResult {
  value: string;
  /** Variables read, in order of first use (set or not). */
  used: string[];
  /** `${VAR:?message}` whose VAR is unset: the message (the value is then empty, as a preview). */
  errors: string[];
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*/;

export function interpolate(text: string, vars: Record<string, string | undefined>): InterpolationResult {
  const used: string[] = [];
  const errors: string[] = [];
  const note = (name: string) => {
    if (!used.includes(name)) used.push(name);
  };
  const expand = (s: string): string => {
    let out = '';
    let i = 0;
    while (i < s.length) {
      const c = s[i]!;
      if (c !== '$') {
        out += c;
        i++;
        continue;
      }
      const next = s[i + 1];
      if (next === '$') {
        out += '$';
        i += 2;
        continue;
      }
      if (next === '{') {
        const close = matchingBrace(s, i + 1);
        if (close < 0) {
          out += s.slice(i);
          break;
        }
        out += braced(s.slice(i + 2, close));
        i = close + 1;
        continue;
      }
      const m = NAME.exec(s.slice(i + 1));
      if (!m) {
        out += c;
        i++;
        continue;
      }
      note(m[0]);
      out += vars[m[0]] ?? '';
      i += 1 + m[0].length;
    }
    return out;
  };
  const braced = (inner: string): string => {
    const m = NAME.exec(inner);
    if (!m) return '';
    const name = m[0];
    note(name);
    const rest = inner.slice(name.length);
    const value = vars[name];
    const set = value !== undefined;
    const nonEmpty = set && value !== '';
    const op = /^(:-|-|:\?|\?|:\+|\+)/.exec(rest)?.[0];
    if (!op) return value ?? '';
    const arg = rest.slice(op.length);
    switch (op) {
      case ':-':
        return nonEmpty ? value! : expand(arg);
      case '-':
        return set ? value! : expand(arg);
      case ':?':
      case '?':
        if (op === ':?' ? nonEmpty : set) return value!;
        errors.push(`${name}: ${expand(arg) || 'required variable is not set'}`);
        return '';
      case ':+':
        return nonEmpty ? expand(arg) : '';
      default:
        return set ? expand(arg) : '';
    }
  };
  return { value: expand(text), used, errors };
}

/** Index of the `}` closing the `{` at `open`, counting nested `${`. */
function matchingBrace(s: string, open: number): number {
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    if (s[i] === '{') depth++;
    else if (s[i] === '}' && --depth === 0) return i;
  }
  return -1;
}

/** Variables named anywhere in a text, e.g. the `TAG` of `acme/api:${TAG:-latest}` (nested defaults too). */
export function variablesIn(text: string): string[] {
  return interpolate(text, {}).used;
}

/** Applies `interpolate` to every string of a parsed YAML value (keys stay as written). */
export function interpolateDeep(value: unknown, vars: Record<string, string | undefined>, errors: string[] = []): unknown {
  if (typeof value === 'string') {
    const r = interpolate(value, vars);
    errors.push(...r.errors);
    return r.value;
  }
  if (Array.isArray(value)) return value.map((v) => interpolateDeep(v, vars, errors));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolateDeep(v, vars, errors)]));
  return value;
}
