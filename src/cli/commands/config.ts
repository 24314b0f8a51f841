import { existsSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import pc from 'picocolors';
import { CONFIG_FILE } from '../../config/locate.js';
import type { LiveCheckReport } from '../../app/analysis/live-check.js';
import { badInput, ExitCode } from '../../core/errors.js';
import { line, printJson } from '../output.js';
import { globalOptions } from '../shared.js';

function printLiveCheck(report: LiveCheckReport, json: boolean): void {
  const misconfigured = report.checks.some((c) => c.status === 'problem') || Boolean(report.health?.some((h) => h.status === 'problem'));
  process.exitCode = misconfigured ? ExitCode.badInput : report.ok ? ExitCode.ok : ExitCode.failed;
  if (json) return printJson(report);
  line(`live check of ${report.env} (${report.source}):`);
  const marks = { ok: pc.green('✓'), warning: pc.yellow('⚠'), problem: pc.red('✗'), error: pc.red('✗') } as const;
  for (const c of report.checks) {
    const found = c.selector === undefined ? (c.reads ? ` ${c.reads}:` : '') : ` ${c.selector}: ${c.seriesMatched ?? '?'} series matched${c.errorSeriesMatched !== undefined ? ` (${c.errorSeriesMatched} erroring)` : ''}${c.labelsSeen ? `, labels ${c.labelsSeen.join(', ') || '(none)'}` : ''}`;
    line(`  ${marks[c.status]} ${c.name}:${found}${c.selector === undefined && c.note ? ` ${c.note}` : ''}`);
    for (const text of [c.mismatch, c.problem]) if (text) line(`      ${pc.red(text)}`);
    if (c.error) line(`      ${pc.red(c.value === undefined ? `source failed: ${c.error}` : c.error)}`);
    for (const w of c.warnings ?? []) line(`      ${pc.yellow(w)}`);
    if (c.note && c.selector !== undefined) line(`      ${c.note}`);
    if (c.where) line(`      ${c.where}`);
  }
  if (report.health?.length) line(report.health.some((h) => h.where || h.error) ? 'health contracts (where the monitor reads them):' : 'health contracts:');
  for (const h of report.health ?? []) {
    line(`  ${marks[h.status]} ${h.name}:${h.reads ? ` ${h.reads}:` : ''} ${h.error ? pc.red(h.error) : (h.note ?? '')}`);
    if (h.problem) line(`      ${pc.red(h.problem)}`);
    if (h.where) line(`      ${h.where}`);
    for (const w of h.warnings ?? []) line(`      ${pc.yellow(w)}`);
  }
  if (report.safety?.length) line('safety state:');
  for (const s of report.safety ?? []) {
    line(`  ${marks[s.status]} ${s.name}: ${s.reads}:${s.note ? ` ${s.note}` : ''}`);
    if (s.error) line(`      ${pc.red(s.error)}`);
    for (const w of s.warnings ?? []) line(`      ${pc.yellow(w)}`);
  }
  if (report.checks.some((c) => c.status === 'problem')) line(`a check names a metric or label its source does not have: fix it in ${report.env}'s analysis.checks`);
  if (report.health?.some((h) => h.status === 'problem')) line(`a health contract names a field the service's answer does not have: every deploy of ${report.env} would fail verification`);
  const warned = [...report.checks, ...(report.safety ?? []), ...(report.health ?? [])].filter((c) => c.status === 'warning').length;
  if (warned) line(`${warned} warning${warned > 1 ? 's' : ''} (⚠): a check that reads no evidence leaves a soak inconclusive, never healthy`);
}

export function registerConfigCommands(program: Command): void {
  const config = program.command('config').description('check shipgate.yml, or print its JSON Schema');

  config
    .command('check')
    .description('validate shipgate.yml and list every problem with file:line:col, field and hint')
    .option('--json', 'print JSON')
    .option('--live <env>', 'also probe the metrics source of this running environment: series matched, labels seen, label mismatches (exit 2)')
    .addHelpText('after', '\nExamples:\n  shipgate config check\n  shipgate config check --live staging')
    .action(async (checkOpts: { live?: string }, cmd: Command) => {
      const opts = globalOptions(cmd);
      const { checkConfigText, errorsOf, locateConfig, readConfigFile } = await import('../../config/load.js');
      const file = locateConfig(opts.config, process.cwd());
      const { config, problems } = checkConfigText(readConfigFile(file), file);
      const errors = errorsOf(problems);
      if (checkOpts.live !== undefined && config) {
        // Loaded only here: a plain check must not load the metric and Redis clients.
        const [{ liveConfigCheck }, { locateForLiveCheck }, { resolveEnvironment }] = await Promise.all([import('../../app/analysis/live-check.js'), import('../../app/analysis/live-where.js'), import('../../config/resolve.js')]);
        const environment = resolveEnvironment(config, checkOpts.live);
        // A swarm runs each service where it places the tasks: read there, as a soak and a monitor read it.
        return printLiveCheck(await liveConfigCheck(environment, await locateForLiveCheck(config, file, environment)), Boolean(opts.json));
      }
      process.exitCode = errors.length ? ExitCode.badInput : ExitCode.ok;
      if (opts.json) return printJson({ ok: errors.length === 0, file, problems });
      for (const p of problems) {
        const label = p.severity === 'warning' ? pc.yellow('warning') : pc.red('error');
        line(`${p.file}:${p.line}:${p.col}: ${label} ${p.path}: ${p.message}\n  ${p.hint}`);
      }
      if (!errors.length) return line(`${pc.green('✓')} ${file} is valid${problems.length ? ` (${problems.length} warning${problems.length > 1 ? 's' : ''})` : ''}`);
      line(`${errors.length} problem${errors.length > 1 ? 's' : ''} in ${file}`);
    });

  config
    .command('schema')
    .description('print the JSON Schema of shipgate.yml (point your editor at it)')
    .action(async () => printJson((await import('../../config/schema.js')).configJsonSchema()));

  program
    .command('init')
    .description(`write a commented starter ${CONFIG_FILE} in the current directory`)
    .option('--from <compose-files...>', 'take the stack from docker-compose files (a compose target: services, ports, health paths, infrastructure, image tags)')
    .option('--profile <name>', 'activate a compose profile (repeatable)', (v: string, all: string[]) => [...all, v], [] as string[])
    .option('--force', `overwrite an existing ${CONFIG_FILE}`)
    .addHelpText('after', '\nExamples:\n  shipgate init\n  shipgate init --from docker-compose.yml\n  shipgate init --from docker-compose.yml docker-compose.prod.yml --profile monitoring')
    .action(async (opts: { from?: string[]; profile: string[]; force?: boolean }, cmd: Command) => {
      // -c FILE names the file to write; by default shipgate.yml in the current directory.
      const target = path.resolve(globalOptions(cmd).config ?? CONFIG_FILE);
      if (existsSync(target) && !opts.force) throw badInput(`${target} already exists`, { hint: 'Edit it, or pass --force to overwrite it.' });
      if (existsSync(target) && statSync(target).isDirectory()) throw badInput(`${target} is a directory`, { hint: 'Name a file to write with -c FILE.' });
      if (opts.profile.length && !opts.from?.length) throw badInput('--profile needs --from', { where: '--profile', hint: 'Name the compose files: --from docker-compose.yml --profile NAME.' });
      const { starterConfig } = await import('../../config/starter.js');
      const text = opts.from?.length ? await starterFromCompose(opts.from, opts.profile, path.dirname(target)) : starterConfig();
      try {
        writeFileSync(target, text);
      } catch (err) {
        throw badInput(`cannot write ${target}: ${(err as Error).message}`, { hint: 'Run `shipgate init` in a directory you can write to, or name another file with -c FILE.' });
      }
      line(`wrote ${target}; check it with \`shipgate config check\``);
    });
}

/** Resolves the compose files (docker-compose config when it can be trusted, else our own resolver) and writes a compose-target starter. */
async function starterFromCompose(from: string[], profiles: string[], configDir: string): Promise<string> {
  for (const f of from) {
    if (!existsSync(f) || statSync(f).isDirectory()) {
      throw badInput(`${f} does not exist or is not a file`, { where: '--from', hint: 'Name your docker-compose files, e.g. --from docker-compose.yml.' });
    }
  }
  const { resolveComposeFiles, composeEnvironment, modelFromConfigOutput } = await import('../../config/compose/resolve-compose.js');
  const { importCompose } = await import('../../config/compose/import.js');
  const { composeConfigOf } = await import('../../adapters/targets/compose/resolved-config.js');
  const { localRunner } = await import('../../adapters/runner/runner.js');
  const { composeStarterConfig } = await import('../../config/starter.js');
  const own = resolveComposeFiles(from, composeEnvironment(from, process.env));
  const answer = await composeConfigOf(from, localRunner, process.env);
  const resolved = answer.ok ? modelFromConfigOutput(answer.text) : own.resolved;
  const resolver = answer.ok ? answer.text && answer.resolver : `the YAML library with merge keys, extends and nested defaults (${answer.reason})`;
  const source = from.join(', ');
  const stack = importCompose({ raw: own.raw, resolved: { name: own.resolved.name ?? resolved.name, services: resolved.services }, profiles, fallbackProject: path.basename(path.resolve(path.dirname(from[0]!))), source });
  const files = from.map((f) => path.relative(configDir, path.resolve(f)) || f);
  return composeStarterConfig(stack, { files, resolver, missingVariables: answer.ok ? [] : own.missingVariables });
}
