import type { Argv } from '../runner/runner.js';

// Pure builders: tests assert these argv arrays exactly. `--end-of-options` keeps a version
// that starts with "-" from ever being read as an option, on top of the syntax check.
export const gitCommands = {
  resolveCommit: (repo: string, version: string): Argv => ['git', '-C', repo, 'rev-parse', '--verify', '--quiet', '--end-of-options', `${version}^{commit}`],
  worktreeAdd: (repo: string, dir: string, commit: string): Argv => ['git', '-C', repo, 'worktree', 'add', '--force', '--detach', dir, commit],
  worktreeRemove: (repo: string, dir: string): Argv => ['git', '-C', repo, 'worktree', 'remove', '--force', dir],
  worktreePrune: (repo: string): Argv => ['git', '-C', repo, 'worktree', 'prune'],
  headCommit: (dir: string): Argv => ['git', '-C', dir, 'rev-parse', 'HEAD'],
  changedPaths: (repo: string, fromCommit: string, toCommit: string): Argv => ['git', '-C', repo, 'diff', '--name-only', '--no-renames', fromCommit, toCommit, '--'],
  userName: (repo: string): Argv => ['git', '-C', repo, 'config', 'user.name'],
};
