import { execFileSync } from 'node:child_process';
import { importNodeBaseImage, startLocalEngine, type LocalEngine } from '../../src/adapters/targets/compose/local-engine.js';
import { onPath } from '../../src/adapters/targets/compose/detect.js';

export interface DockerHarness extends LocalEngine {
  /** `shipgate-node-base:local`, imported from this machine's node: no registry involved. */
  baseImage: string;
  composeVersion: string;
  /** Whether `docker compose` (the v2 plugin) works here. */
  hasComposeV2: boolean;
}

/**
 * Starts a private engine (overlay2, else vfs) and imports the node base image the sample
 * stack's Dockerfile builds from. The tools are installed by scripts/ensure-system-deps.sh
 * (`npm test` runs it); missing ones fail the test instead of skipping it.
 */
export async function startDocker(): Promise<DockerHarness> {
  const missing = ['dockerd', 'docker', 'docker-compose'].filter((p) => !onPath(p, process.env.PATH));
  if (missing.length) throw new Error(`${missing.join(', ')} not installed: run \`bash scripts/ensure-system-deps.sh\` (apt-get install docker.io docker-compose) as root`);
  const engine = await startLocalEngine();
  try {
    const baseImage = await importNodeBaseImage(engine);
    const composeVersion = execFileSync('docker-compose', ['version', '--short'], { encoding: 'utf8' }).trim();
    let hasComposeV2 = false;
    try {
      execFileSync('docker', ['compose', 'version'], { stdio: 'ignore' });
      hasComposeV2 = true;
    } catch {
      /* no v2 plugin */
    }
    return { ...engine, baseImage, composeVersion, hasComposeV2 };
  } catch (err) {
    await engine.stop();
    throw err;
  }
}

/** `{{.Id}}` and `{{.Created}}` of an image, or undefined when it does not exist. */
export async function imageIdentity(engine: Pick<LocalEngine, 'docker'>, ref: string): Promise<string | undefined> {
  try {
    return (await engine.docker(['image', 'inspect', '--format', '{{.Id}} {{.Created}}', ref])).trim();
  } catch {
    return undefined;
  }
}
