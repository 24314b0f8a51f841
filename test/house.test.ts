// The house rules of src/ (scripts/check-house.mjs): no file over 400 lines, no import cycle.
// Checked on the real tree, and on small trees that break each rule, so the checker is known to see them.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const script = path.resolve(__dirname, '..', 'scripts', 'check-house.mjs');
const check = (dir?: string) => spawnSync(process.execPath, [script, ...(dir ? [dir] : [])], { encoding: 'utf8' });

describe('house rules', () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'sg-house-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  const tree = (name: string, files: Record<string, string>) => {
    const dir = path.join(tmp, name);
    for (const [file, text] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
      writeFileSync(path.join(dir, file), text);
    }
    return dir;
  };

  it('src/ has no file over 400 lines and no import cycle', () => {
    const res = check();
    expect(res.stdout, res.stdout).toMatch(/none over 400 lines, no import cycle/);
    expect(res.status).toBe(0);
  });

  it('sees a cycle through imports, re-exports and type-only imports, and names its modules in order', () => {
    const dir = tree('cycle', {
      'app/deploy.ts': "import { watch } from './watches.js';\nexport const deploy = () => watch();\n",
      'app/watches.ts': "export { monitor as watch } from './monitor.js';\n",
      'app/monitor.ts': "import type { Deploy } from './types/deploy.js';\nexport const monitor = (): Deploy | undefined => undefined;\n",
      'app/types/deploy.ts': "import {\n  deploy,\n} from '../deploy.js';\nexport type Deploy = typeof deploy;\n",
      'app/leaf.ts': "import { x } from 'node:fs';\nconst lazy = () => import('./deploy.js');\n",
    });
    const res = check(dir);
    expect(res.status).toBe(1);
    expect(res.stdout.trim()).toBe('import cycle: app/deploy.ts -> app/watches.ts -> app/monitor.ts -> app/types/deploy.ts -> app/deploy.ts'.replaceAll('app/', `${path.relative(path.resolve(script, '..', '..'), dir)}/app/`));
  });

  it('a lazy import() is no cycle; a file of 401 lines is too long, one of 400 is not', () => {
    const lines = (n: number) => `${Array.from({ length: n }, (_, i) => `export const v${i} = ${i};`).join('\n')}\n`;
    const dir = tree('long', {
      'a.ts': "export const a = () => import('./b.js');\n",
      'b.ts': "import { a } from './a.js';\nexport const b = a;\n",
      'fits.ts': lines(400),
      'long.ts': lines(401),
    });
    const res = check(dir);
    expect(res.status).toBe(1);
    expect(res.stdout.trim().split('\n')).toEqual([`${path.relative(path.resolve(script, '..', '..'), path.join(dir, 'long.ts'))}: 401 lines (at most 400): split it into files that each do one job`]);
    // The same tree without the long file passes.
    rmSync(path.join(dir, 'long.ts'));
    expect(execFileSync(process.execPath, [script, dir], { encoding: 'utf8' })).toMatch(/3 files: none over 400 lines, no import cycle/);
  });
});
