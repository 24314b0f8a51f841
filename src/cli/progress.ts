import pc from 'picocolors';
import type { Progress } from '../app/progress.js';
import { formatDuration } from '../core/duration.js';

/**
 * A task list: in a terminal each task line is rewritten in place when it ends; otherwise
 * (CI logs, pipes, --json on stderr) plain start and end lines.
 */
export function consoleProgress(stream: NodeJS.WriteStream = process.stdout): Progress {
  const tty = Boolean(stream.isTTY) && process.env.TERM !== 'dumb';
  return {
    async task(title, run, failedIf) {
      const started = performance.now();
      stream.write(tty ? `${pc.cyan('…')} ${title}` : `- ${title}\n`);
      try {
        const result = await run();
        const took = formatDuration(performance.now() - started);
        if (failedIf?.(result)) stream.write(tty ? `\r\x1b[2K${pc.red('✗')} ${title} ${pc.dim(took)}\n` : `  FAILED ${title} (${took})\n`);
        else stream.write(tty ? `\r\x1b[2K${pc.green('✓')} ${title} ${pc.dim(took)}\n` : `  ok ${title} (${took})\n`);
        return result;
      } catch (err) {
        stream.write(tty ? `\r\x1b[2K${pc.red('✗')} ${title}\n` : `  FAILED ${title}\n`);
        throw err;
      }
    },
    info: (message) => stream.write(`${tty ? pc.dim('·') : ' '} ${message}\n`),
    warn: (message) => stream.write(`${tty ? pc.yellow('!') : '!'} ${message}\n`),
  };
}
