// Soaks short enough to test: any duration is valid config; one outside the seed's ranges is a
// `config check` warning at its position that names the seed's rule, never an error.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkConfigText, loadConfig } from '../src/config/load.js';
import { shipgate } from './harness/cli.js';

const CONFIG = `version: 1
services:
  api: { command: [python3, app.py], port: 18001 }
environments:
  staging:
    soak:
      standard: 20s
      extended: 60h
      short: 90m
  production:
    soak: { standard: 30h, extended: 80h, short: 5h }
`;

function posOf(text: string, needle: string): { line: number; col: number } {
  const before = text.slice(0, text.indexOf(needle)).split('\n');
  return { line: before.length, col: before[before.length - 1]!.length + 1 };
}

describe('soak durations outside the seed ranges', () => {
  it('are accepted with one warning each, at the value, naming the seed rule', () => {
    const { config, problems } = checkConfigText(CONFIG, 'shipgate.yml');
    expect(config?.environments.staging?.soak).toMatchObject({ standard: 20_000, extended: 60 * 3_600_000, short: 90 * 60_000 });
    expect(problems.map((p) => [p.path, p.severity, p.line, p.col])).toEqual([
      ['environments.staging.soak.standard', 'warning', posOf(CONFIG, '20s').line, posOf(CONFIG, '20s').col],
      ['environments.staging.soak.short', 'warning', posOf(CONFIG, '90m').line, posOf(CONFIG, '90m').col],
      ['environments.production.soak.extended', 'warning', posOf(CONFIG, '80h').line, posOf(CONFIG, '80h').col],
    ]);
    expect(problems[0]!.message).toBe("a standard soak of 20s is outside the seed's rule: the seed soaks standard releases at least 24h");
    expect(problems[1]!.message).toMatch(/the seed shortens soaks of hotfix, docs-only, ui-only and config-only changes to 4h to 8h$/);
    expect(problems[2]!.message).toMatch(/^an extended soak of 80h0m .*48h to 72h$/);
    expect(problems[2]!.hint).toBe('Fine for tests and drills; for real releases set extended to 48h to 72h.');
  });

  it('in range (and by default) give no finding', () => {
    const { problems } = checkConfigText(CONFIG.replace('standard: 20s', 'standard: 24h').replace('short: 90m', 'short: 8h').replace('extended: 80h', 'extended: 72h'), 'shipgate.yml');
    expect(problems).toEqual([]);
    expect(checkConfigText(CONFIG.replace(/ {4}soak:[\s\S]*?short: 90m\n/, '    soak: {}\n').replace('    soak: { standard: 30h, extended: 80h, short: 5h }', '    soak: {}'), 'shipgate.yml').problems).toEqual([]);
  });

  const dir = mkdtempSync(path.join(os.tmpdir(), 'shipgate-soak-durations-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('config check prints them as warnings and exits 0; commands load the config', async () => {
    writeFileSync(path.join(dir, 'shipgate.yml'), CONFIG);
    const human = await shipgate(['config', 'check'], { cwd: dir });
    expect(human.code, human.stdout + human.stderr).toBe(0);
    const at = posOf(CONFIG, '20s');
    expect(human.stdout).toContain(`shipgate.yml:${at.line}:${at.col}: warning environments.staging.soak.standard: a standard soak of 20s is outside the seed's rule`);
    expect(human.stdout).toMatch(/is valid \(3 warnings\)/);
    const json = await shipgate(['config', 'check', '--json'], { cwd: dir });
    expect(json.code).toBe(0);
    expect(json.json()).toMatchObject({ ok: true, problems: [{ severity: 'warning' }, { severity: 'warning' }, { severity: 'warning' }] });
    expect(loadConfig(undefined, dir).config.environments.staging?.soak?.standard).toBe(20_000);
  });
});
