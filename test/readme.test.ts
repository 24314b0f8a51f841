import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkConfigText } from '../src/config/load.js';
import { ROOT, shipgate } from './harness/cli.js';

const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');

describe('the README stays true', () => {
  it('its configuration reference is a valid shipgate.yml', () => {
    const block = /## Configuration reference[\s\S]*?```yaml\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(block).toBeDefined();
    const { problems } = checkConfigText(block!, 'README.md');
    expect(problems).toEqual([]);
  });

  it('every command it lists exists', async () => {
    const commands = [...readme.matchAll(/^\| `shipgate ([a-z]+)/gm)].map((m) => m[1]!);
    expect(commands.length).toBeGreaterThan(15);
    const help = (await shipgate(['--help'], { cwd: ROOT })).stdout;
    for (const c of new Set(commands)) expect(help, c).toMatch(new RegExp(`^  ${c}\\b`, 'm'));
  });

  it('opens with exactly the two set-up commands', () => {
    const first = /```bash\n([\s\S]*?)```/.exec(readme)?.[1]?.trim().split('\n');
    expect(first).toEqual([expect.stringMatching(/^npm ci && npm run demo/), expect.stringMatching(/^npm ci && npm test/)]);
  });
});
