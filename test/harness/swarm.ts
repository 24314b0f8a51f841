// The three-node swarm harness lives in src/ (the bench uses it from dist/ too).
export { startSwarm, until, type SwarmHarness, type SwarmNodeEngine } from '../../src/adapters/targets/swarm/local-swarm.js';
export { buildReleaseImages, DEMO_SWARM, swarmStackConfig } from '../../src/adapters/targets/swarm/local-swarm-stack.js';
