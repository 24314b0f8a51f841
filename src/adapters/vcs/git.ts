import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { badInput, failed } from '../../core/errors.js';
import { describeArgv, type Runner } from '../runner/runner.js';
import { gitCommands } from './git-commands.js';

export class GitRepository {
  constructor(
    readonly dir: string,
    private readonly runner: Runner,
  ) {}

  /** The commit a tag or commit names, or a bad-input error that says how to list versions. */
  async resolve(version: string): Promise<string> {
    if (!existsSync(this.dir)) {
      throw badInput(`the repository ${this.dir} does not exist`, { where: 'shipgate.yml: repository', hint: 'Point `repository` at the git checkout of your stack.' });
    }
    const res = await this.runner.run(gitCommands.resolveCommit(this.dir, version));
    if (res.exitCode !== 0) {
      throw badInput(`version ${version} does not exist in ${this.dir}`, {
        where: '--version',
        hint: `List the available tags with \`git -C ${this.dir} tag --list\` and pass one of them, or a commit hash.`,
      });
    }
    return res.stdout.trim();
  }

  /** Checks the commit out into `dir`; reuses a checkout already at that commit (idempotent). */
  async checkout(dir: string, commit: string): Promise<void> {
    if (existsSync(dir)) {
      const head = await this.runner.run(gitCommands.headCommit(dir));
      if (head.exitCode === 0 && head.stdout.trim() === commit) return;
      await this.runner.run(gitCommands.worktreeRemove(this.dir, dir));
      await rm(dir, { recursive: true, force: true });
    }
    // No prune before the add: a prune run by one deploy while another adds a worktree of this
    // repository (two environments at once) removes the other's half-made entry ("could not open
    // .git/worktrees/<v>/locked"). --force already reuses a registered path that is gone; stale
    // entries are pruned, and the add tried once more, only when the add fails.
    let res = await this.runner.run(gitCommands.worktreeAdd(this.dir, dir, commit));
    if (res.exitCode !== 0) {
      await this.runner.run(gitCommands.worktreePrune(this.dir));
      await rm(dir, { recursive: true, force: true });
      res = await this.runner.run(gitCommands.worktreeAdd(this.dir, dir, commit));
    }
    if (res.exitCode !== 0) {
      throw failed(`could not check out ${commit} into ${dir}: ${res.stderr.trim()}`, { hint: `Run \`${describeArgv(gitCommands.worktreeAdd(this.dir, dir, commit))}\` by hand to see the problem.` });
    }
  }

  /** Paths changed between two commits (resolved SHAs, never user text). */
  async changedPaths(fromCommit: string, toCommit: string): Promise<string[]> {
    const res = await this.runner.run(gitCommands.changedPaths(this.dir, fromCommit, toCommit));
    if (res.exitCode !== 0) throw failed(`could not list the changes between ${fromCommit} and ${toCommit}: ${res.stderr.trim()}`);
    return res.stdout.split('\n').filter(Boolean);
  }

  async addedPaths(fromCommit: string, toCommit: string): Promise<string[]> {
    const res = await this.runner.run(gitCommands.addedPaths(this.dir, fromCommit, toCommit));
    if (res.exitCode !== 0) throw failed(`could not list the files added between ${fromCommit} and ${toCommit}: ${res.stderr.trim()}`);
    return res.stdout.split('\n').filter(Boolean);
  }

  async fileExists(commit: string, file: string): Promise<boolean> {
    return (await this.runner.run(gitCommands.fileExists(this.dir, commit, file))).exitCode === 0;
  }

  /** One line per commit since `fromCommit` (or the whole history). */
  async changelog(fromCommit: string | undefined, toCommit: string): Promise<string[]> {
    const res = await this.runner.run(gitCommands.logOneline(this.dir, fromCommit, toCommit));
    return res.exitCode === 0 ? res.stdout.split('\n').filter(Boolean) : [];
  }

  async lastTagBefore(commit: string): Promise<string | undefined> {
    const res = await this.runner.run(gitCommands.lastTagBefore(this.dir, commit));
    return res.exitCode === 0 ? res.stdout.trim() || undefined : undefined;
  }

  async isAnnotatedTag(tag: string): Promise<boolean> {
    const res = await this.runner.run(gitCommands.tagType(this.dir, tag));
    return res.exitCode === 0 && res.stdout.trim() === 'tag';
  }

  async tagAnnotated(tag: string, commit: string, message: string): Promise<void> {
    const res = await this.runner.run(gitCommands.tagAnnotated(this.dir, tag, commit, message));
    if (res.exitCode !== 0) throw failed(`could not tag ${commit} as ${tag}: ${res.stderr.trim()}`);
  }

  async pushTag(remote: string, tag: string): Promise<{ ok: boolean; output: string }> {
    const res = await this.runner.run(gitCommands.pushTag(this.dir, remote, tag));
    return { ok: res.exitCode === 0, output: (res.stderr || res.stdout).trim() };
  }

  async hasRemote(remote: string): Promise<boolean> {
    return (await this.runner.run(gitCommands.remoteUrl(this.dir, remote))).exitCode === 0;
  }

  async userName(): Promise<string | undefined> {
    const res = await this.runner.run(gitCommands.userName(this.dir));
    return res.exitCode === 0 && res.stdout.trim() ? res.stdout.trim() : undefined;
  }
}
