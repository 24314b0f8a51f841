import { Command, CommanderError } from 'commander';
import { installation } from '../adapters/host/install.js';
import { ExitCode } from '../core/errors.js';
import { registerAnalysisCommands } from './commands/analysis.js';
import { registerAnnounceCommand } from './commands/announce.js';
import { registerApprovalCommands } from './commands/approvals.js';
import { registerAuditCommand } from './commands/audit.js';
import { registerCiCommands } from './commands/ci.js';
import { registerConfigCommands } from './commands/config.js';
import { registerDatabaseCommands } from './commands/database.js';
import { registerDecideCommand } from './commands/decide.js';
import { registerDemoCommand } from './commands/demo.js';
import { registerDiagnoseCommand } from './commands/diagnose.js';
import { registerDeployCommands } from './commands/deploy.js';
import { registerIncidentCommands } from './commands/incident.js';
import { registerLockCommands } from './commands/lock.js';
import { registerRunbookCommands } from './commands/runbooks.js';
import { registerStateCommands } from './commands/state.js';
import { registerStatusCommands } from './commands/status.js';
import { registerStopCommand } from './commands/stop.js';
import { registerWindowCommand } from './commands/window.js';
import { registerPreflightCommand } from './commands/preflight.js';
import { ignoreOutputWriteErrors, printJson, reportError } from './output.js';

export function buildProgram(): Command {
  const program = new Command('shipgate')
    .description('Deploy, verify and roll back a multi-service stack; every step recorded and explained.')
    .version(installation().version, '-V, --version-info', 'print the shipgate version')
    .option('-c, --config <file>', 'shipgate.yml to use (default: found in the current directory or above)')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  program.configureHelp({ sortSubcommands: false, showGlobalOptions: true });

  registerConfigCommands(program);
  registerPreflightCommand(program);
  registerAnnounceCommand(program);
  registerDeployCommands(program);
  registerStatusCommands(program);
  registerStopCommand(program);
  registerAnalysisCommands(program);
  registerApprovalCommands(program);
  registerRunbookCommands(program);
  registerLockCommands(program);
  registerDatabaseCommands(program);
  registerWindowCommand(program);
  registerIncidentCommands(program);
  registerDecideCommand(program);
  registerAuditCommand(program);
  registerStateCommands(program);
  registerDiagnoseCommand(program);
  registerCiCommands(program);
  registerDemoCommand(program);
  for (const cmd of allCommands(program)) cmd.exitOverride();
  return program;
}

function allCommands(cmd: Command): Command[] {
  return cmd.commands.flatMap((c) => [c, ...allCommands(c)]);
}

export async function main(argv: string[]): Promise<void> {
  ignoreOutputWriteErrors();
  const program = buildProgram();
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
