// Base images made without any registry: `docker import` of a root filesystem holding only a
// runtime (node, or python3 with its standard library), the libraries `ldd` lists for it and the
// dynamic loader. Used by the tests, benchmarks and demos (local-engine.ts, swarm/local-swarm.ts).
import { chmodSync, existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { pipeInto } from '../../runner/pipe.js';
import { localRunner } from '../../runner/runner.js';

export interface RootfsSpec {
  name: string;
  /** Path in the image -> file on this host (binaries: their `ldd` libraries come along). */
  binaries: [string, string][];
  /** Libraries loaded with dlopen, which ldd does not list (e.g. libgcc_s for pthread_exit). */
  dlopened?: string[];
  /** Directory in the image -> directory on this host, minus `exclude` (paths inside it). */
  trees?: { inImage: string; host: string; exclude?: string[] }[];
}

/** Imports the root filesystem of `spec` as image `spec.name` on the engine; returns the name. */
export async function importRootfsImage(engine: { host: string; dir: string }, spec: RootfsSpec): Promise<string> {
  const root = mkdtempSync(path.join(engine.dir, 'rootfs-'));
  try {
    const files: [string, string][] = [...spec.binaries];
    for (const [, binary] of spec.binaries) {
      const ldd = await localRunner.run(['ldd', binary]);
      if (ldd.exitCode !== 0) throw new Error(`ldd ${binary}: ${ldd.stderr.trim()}`);
      for (const lib of ldd.stdout.split('\n').map((l) => /(\/\S+)\s+\(0x/.exec(l)?.[1]).filter((p): p is string => p !== undefined)) files.push([lib, lib]);
    }
    for (const lib of spec.dlopened ?? []) files.push([lib, lib]);
    // Symlinks to the host's files, which `tar --dereference` stores as the files themselves.
    for (const [inImage, onHost] of [...files, ...(spec.trees ?? []).map((t) => [t.inImage, t.host] as [string, string])]) {
      const target = path.join(root, inImage);
      mkdirSync(path.dirname(target), { recursive: true });
      if (!existsSync(target)) symlinkSync(realpathSync(onHost), target);
    }
    mkdirSync(path.join(root, 'tmp'));
    chmodSync(path.join(root, 'tmp'), 0o1777);
    mkdirSync(path.join(root, 'app'));
    const exclude = (spec.trees ?? []).flatMap((t) => (t.exclude ?? []).map((e) => `--exclude=./${path.posix.join(t.inImage, e).replace(/^\//, '')}`));
    const tar = ['tar', '--dereference', '--numeric-owner', '--owner=0', '--group=0', '--anchored', ...exclude, '-C', root, '-cf', '-', '.'] as const;
    const load = ['docker', '-H', engine.host, 'import', '--change', 'ENV PATH=/usr/local/bin:/usr/bin:/bin', '--change', 'WORKDIR /app', '-', spec.name] as const;
    const res = await pipeInto(tar, load, { env: process.env, timeoutMs: 600_000, prefix: '', suffix: () => '' });
    if (res.producerCode !== 0 || res.consumerCode !== 0) throw new Error(`docker import failed (tar ${res.producerCode}, docker ${res.consumerCode}): ${`${res.producerStderr}\n${res.consumerStderr}`.trim()}`);
    return spec.name;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/** An image with only `node` (this process's, unless given) at /usr/bin/node. */
export function importNodeBaseImage(engine: { host: string; dir: string }, options: { name?: string; nodeBinary?: string } = {}): Promise<string> {
  return importRootfsImage(engine, { name: options.name ?? 'shipgate-node-base:local', binaries: [['/usr/bin/node', options.nodeBinary ?? process.execPath]] });
}

/**
 * An image with Debian's python3 (/usr/bin/python3) and its standard library, without the test
 * suite, IDLE, tkinter and the other tools a service never imports. Fails naming what is missing.
 */
export async function importPythonBaseImage(engine: { host: string; dir: string }, options: { name?: string; python?: string } = {}): Promise<string> {
  const python = options.python ?? '/usr/bin/python3';
  if (!existsSync(python)) throw new Error(`${python} not found: install python3 (Debian package python3)`);
  const res = await localRunner.run([python, '-c', 'import sysconfig; print(sysconfig.get_paths()["stdlib"])']);
  if (res.exitCode !== 0) throw new Error(`${python} could not say where its standard library is: ${res.stderr.trim()}`);
  const stdlib = res.stdout.trim();
  const real = realpathSync(python);
  const gcc = (await localRunner.run(['ldconfig', '-p'])).stdout.split('\n').map((l) => /libgcc_s\.so\.1 \(libc6,x86-64\) => (\S+)/.exec(l)?.[1]).find(Boolean);
  return importRootfsImage(engine, {
    name: options.name ?? 'shipgate-python-base:local',
    binaries: [[`/usr/bin/${path.basename(real)}`, real], ['/usr/bin/python3', real]],
    dlopened: gcc ? [gcc] : [],
    trees: [{ inImage: stdlib, host: stdlib, exclude: ['test', 'idlelib', 'tkinter', 'turtledemo', 'ensurepip', 'lib2to3', 'pydoc_data', 'dist-packages', 'site-packages'] }],
  });
}
