import { Command, CommanderError } from 'commander';
import { installation } from '../adapters/host/install.js';
import { ExitCode } from '../core/errors.js';
import { ignoreOutputWriteErrors, printJson, reportError } from './output.js';

type Registrar = (program: Command) => void;

/**
 * Every command group in --help order: the top-level commands its file registers, and how to load
 * it. A command line naming one of them loads only that file (issue 15); test/cli-start.test.ts
 * checks each file registers exactly these names.
 */
export const COMMAND_GROUPS: readonly { names: readonly string[]; load: () => Promise<Registrar> }[] = [
  { names: ['config', 'init'], load: async () => (await import('./commands/config.js')).registerConfigCommands },
  { names: ['preflight'], load: async () => (await import('./commands/preflight.js')).registerPreflightCommand },
  { names: ['announce'], load: async () => (await import('./commands/announce.js')).registerAnnounceCommand },
  { names: ['deploy', 'promote', 'rollback'], load: async () => (await import('./commands/deploy.js')).registerDeployCommands },
  { names: ['status', 'health', 'logs'], load: async () => (await import('./commands/status.js')).registerStatusCommands },
  { names: ['stop'], load: async () => (await import('./commands/stop.js')).registerStopCommand },
  { names: ['soak', 'monitors', 'watch', 'serve'], load: async () => (await import('./commands/analysis.js')).registerAnalysisCommands },
  { names: ['approvals', 'approve', 'sign-request'], load: async () => (await import('./commands/approvals.js')).registerApprovalCommands },
  { names: ['breaker', 'killswitch'], load: async () => (await import('./commands/runbooks.js')).registerRunbookCommands },
  { names: ['lock'], load: async () => (await import('./commands/lock.js')).registerLockCommands },
  { names: ['backup', 'backups', 'restore'], load: async () => (await import('./commands/database.js')).registerDatabaseCommands },
  { names: ['window'], load: async () => (await import('./commands/window.js')).registerWindowCommand },
  { names: ['incident'], load: async () => (await import('./commands/incident.js')).registerIncidentCommands },
  { names: ['decide'], load: async () => (await import('./commands/decide.js')).registerDecideCommand },
  { names: ['audit'], load: async () => (await import('./commands/audit.js')).registerAuditCommand },
  { names: ['state'], load: async () => (await import('./commands/state.js')).registerStateCommands },
  { names: ['token'], load: async () => (await import('./commands/token.js')).registerTokenCommands },
  { names: ['diagnose'], load: async () => (await import('./commands/diagnose.js')).registerDiagnoseCommand },
  { names: ['ci'], load: async () => (await import('./commands/ci.js')).registerCiCommands },
  { names: ['demo'], load: async () => (await import('./commands/demo.js')).registerDemoCommand },
];

/** The group of the command `argv` names (after the global options), if it names one. */
export function commandGroupOf(argv: readonly string[]): (typeof COMMAND_GROUPS)[number] | undefined {
  const args = argv.slice(2);
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '-c' || arg === '--config') i++; // its value
    else if (!arg.startsWith('-')) return COMMAND_GROUPS.find((g) => g.names.includes(arg));
  }
  return undefined;
}

/** The program with every command, or (given argv naming a command) with that command's group only. */
export async function buildProgram(argv?: readonly string[]): Promise<Command> {
  const program = new Command('shipgate')
    .description('Deploy, verify and roll back a multi-service stack; every step recorded and explained.')
    .version(installation().version, '-V, --version-info', 'print the shipgate version')
    .option('-c, --config <file>', 'shipgate.yml to use (default: found in the current directory or above)')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  program.configureHelp({ sortSubcommands: false, showGlobalOptions: true });
  // Help, a mistyped command and no command at all list every command, so all are loaded then.
  const named = argv && commandGroupOf(argv);
  const registrars = await Promise.all((named ? [named] : COMMAND_GROUPS).map((g) => g.load()));
  for (const register of registrars) register(program);
  for (const cmd of allCommands(program)) cmd.exitOverride();
  return program;
}

function allCommands(cmd: Command): Command[] {
  return cmd.commands.flatMap((c) => [c, ...allCommands(c)]);
}

export async function main(argv: string[]): Promise<void> {
  ignoreOutputWriteErrors();
  // Commands take `--version` for the release they act on, so the global flag is --version-info;
  // alone, `shipgate --version` asks what every other tool answers to it.
  if (argv.length === 3 && argv[2] === '--version') {
    process.stdout.write(`${installation().version}\n`);
    return;
  }
  const program = await buildProgram(argv);
  const json = argv.includes('--json');
  // Node's fetch can leave a request pending forever when a peer resets the connection at once
  // (seen with a port squatter), and AbortSignal.timeout's timer does not keep the process alive:
  // the CLI would exit 0 mid-command. This handle keeps it alive until the command has finished,
  // so those timeouts fire and are reported.
  const keepAlive = setInterval(() => undefined, 1 << 30);
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // Asked-for help and version exit 0; help shown for a missing command and every other
      // parse error is bad input.
      process.exitCode = err.exitCode === 0 ? ExitCode.ok : ExitCode.badInput;
      if (process.exitCode !== 0 && json) printJson({ ok: false, error: { message: err.message.replace(/^error: /, ''), exitCode: ExitCode.badInput } });
      return;
    }
    process.exitCode = reportError(err, json);
  } finally {
    clearInterval(keepAlive);
  }
}
