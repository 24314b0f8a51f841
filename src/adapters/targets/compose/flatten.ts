import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { composeEnvironment } from '../../../config/compose/dotenv.js';
import { interpolate } from '../../../config/compose/interpolate.js';

/**
 * docker-compose 1.x cannot nest defaults: `${A:-${B:-x}}` ends at the first `}`, so image
 * names come out as `${B:-x}/api:v1` and the build fails. For v1 only, each nested expression
 * is replaced by its value (resolved as compose v2 would, with the same variables) in a copy of
 * the file beside it, so relative paths (build contexts, env files) stay the same. Plain
 * `${VAR}` expressions are left for compose. Returns undefined when nothing is nested.
 */
export function flattenNestedDefaults(text: string, vars: Record<string, string | undefined>): string | undefined {
  let out = '';
  let changed = false;
  let i = 0;
  while (i < text.length) {
    if (text[i] === '$' && text[i + 1] === '$') {
      out += '$$';
      i += 2;
      continue;
    }
    if (text[i] === '$' && text[i + 1] === '{') {
      const close = closingBrace(text, i + 1);
      if (close > 0 && text.slice(i + 2, close).includes('${')) {
        out += interpolate(text.slice(i, close + 1), vars).value.replaceAll('$', '$$$$');
        changed = true;
        i = close + 1;
        continue;
      }
    }
    out += text[i];
    i++;
  }
  return changed ? out : undefined;
}

function closingBrace(s: string, open: number): number {
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    if (s[i] === '{') depth++;
    else if (s[i] === '}' && --depth === 0) return i;
  }
  return -1;
}

/** The files v1 is given: a flattened copy (`.<name>.shipgate-v1.yml`, same directory) for each file that nests defaults. */
export function filesForV1(files: string[], env: Record<string, string>): string[] {
  const vars = composeEnvironment(files, env);
  return files.map((file) => {
    if (!existsSync(file)) return file;
    const flat = flattenNestedDefaults(readFileSync(file, 'utf8'), vars);
    if (flat === undefined) return file;
    const copy = path.join(path.dirname(file), `.${path.basename(file, path.extname(file))}.shipgate-v1.yml`);
    writeFileSync(copy, `# Written by shipgate for docker-compose 1.x from ${path.basename(file)}: nested defaults resolved.\n${flat}`);
    return copy;
  });
}
