import { z } from 'zod';
import { port } from './primitives.js';

export const processTarget = z.strictObject({
  type: z.literal('process'),
});

export const composeFields = {
  files: z.array(z.string().min(1)).min(1).default(['docker-compose.yml']).describe('Compose files, relative to the release checkout (seed: docker-compose.prod.yml).'),
  project: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'compose project names are lower-case letters, digits, "_" and "-"').optional().describe('Compose project name (default: <project>_<env>).'),
  cli: z.enum(['auto', 'docker-compose', 'docker compose']).default('auto').describe('docker-compose (v1, as in the seeds) or docker compose (v2); auto detects.'),
  versionVariable: z.string().regex(/^[A-Z_][A-Z0-9_]*$/).default('TAG').describe('Variable the compose file interpolates with the release version, e.g. image: trading/gateway:${TAG}.'),
  build: z.boolean().default(true).describe('Build images from the release checkout (docker-compose build).'),
  pull: z.boolean().default(false).describe('Pull images from a registry instead of building.'),
  keepReleases: z.number().int().min(1).default(5).describe('Images of this many releases are kept for rollback.'),
  dockerHost: z.string().optional().describe('DOCKER_HOST for the engine, e.g. unix:///run/docker.sock.'),
  profiles: z.array(z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/, 'compose profile names are letters, digits, "_", "." and "-"')).default([]).describe('Compose profiles to activate (--profile), e.g. [monitoring].'),
  images: z
    .strictObject({
      tag: z.string().min(1).default('{version}').describe('Value of versionVariable for a release: "{version}", "{sha}" (the commit), "{sha7}", e.g. "sha-{sha7}".'),
    })
    .default({ tag: '{version}' })
    .describe('How a release maps to registry image tags.'),
  allowFloatingImages: z.boolean().default(false).describe('Deploy images not pinned to the release (:latest, no tag, no version variable); a rollback then cannot bring the old code back.'),
  dependencies: z.array(z.string().min(1)).default([]).describe('Compose services that are infrastructure, not part of the release (databases, caches, monitoring): started with the stack, never pinned to the release, no health URLs.'),
};

export const composeTarget = z.strictObject({ type: z.literal('compose'), ...composeFields });

export const sshHost = z.strictObject({
  host: z.string().min(1),
  port: port.default(22),
  user: z.string().min(1).default('root'),
  keyFile: z.string().min(1).describe('Private key file (never the key itself).'),
});

export const sshTarget = z.strictObject({
  type: z.literal('ssh'),
  ...composeFields,
  hosts: z.array(sshHost).min(1).describe('Hosts, deployed one after another (parallelism) and returned to the previous release if one fails.'),
  dir: z.string().min(1).describe('Checkout of the stack on each host, e.g. /opt/trading_platform.'),
  remote: z.string().default('origin').describe('Git remote fetched on each host.'),
  parallelism: z.number().int().min(1).default(1),
});

export const swarmTarget = z.strictObject({
  type: z.literal('swarm'),
  files: z.array(z.string().min(1)).min(1).default(['docker-stack.yml']).describe('Stack (compose) files, relative to the release checkout; given to docker stack deploy -c in order.'),
  stack: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'stack names are lower-case letters, digits, "_" and "-"').optional().describe('Stack name (default: <project>_<env>).'),
  versionVariable: composeFields.versionVariable,
  images: composeFields.images,
  allowFloatingImages: composeFields.allowFloatingImages,
  dependencies: composeFields.dependencies,
  dockerHost: z.string().optional().describe('DOCKER_HOST of a swarm manager, e.g. unix:///run/docker.sock or ssh://deploy@manager1.'),
  exclusive: z
    .array(z.string().min(1))
    .default(['execution_gateway'])
    .describe('Services that must never run twice (an execution gateway would send orders twice): their update and rollback order is stop-first whatever the stack file says.'),
  convergenceTimeout: z.string().regex(/^\d+(ms|s|m|h)$/, 'a duration such as 90s or 5m').default('5m').describe('How long a deploy waits for every service to run its new tasks (desired replicas, none failed).'),
  keepReleases: composeFields.keepReleases,
});

export const target = z.discriminatedUnion('type', [processTarget, composeTarget, sshTarget, swarmTarget]);

