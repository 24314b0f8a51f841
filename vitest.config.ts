import path from 'node:path';
import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

// The files that take minutes (real multi-node swarm, 100 kills, real browsers, PostgreSQL HA) start
// first: on a fresh clone vitest has no timings cached, and one of them starting last made the
// suite's tail a lone file running on an otherwise idle machine.
const LONGEST_FIRST = [
  'swarm-stories', 'crash-anywhere', 'pystack-evidence', 'swarm-monitor', 'analysis', 'dashboard-browser',
  'ha-controller', 'controller', 'health-contract', 'compose', 'ssh', 'resume', 'compose-import', 'promote', 'demo',
];

class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (f: TestSpecification) => {
      const i = LONGEST_FIRST.indexOf(path.basename(f.moduleId).replace(/\.test\.ts$/, ''));
      return i === -1 ? LONGEST_FIRST.length : i;
    };
    return sorted.map((f, i) => [f, i] as const).sort((a, b) => rank(a[0]) - rank(b[0]) || a[1] - b[1]).map(([f]) => f);
  }
}

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Generous: these tests drive real servers and processes, and CI machines have 2 cores. These are
    // the bounds on an idle machine: test/harness/setup.ts stretches them by the machine's load
    // (test/harness/pace.ts) before each file, and tests with bounds of their own use scaled().
    testTimeout: 180_000,
    hookTimeout: 120_000,
    setupFiles: ['test/harness/setup.ts'],
    // Tests mostly wait on real servers and processes: three forks keep two cores busy, not flooded.
    maxWorkers: 3,
    fileParallelism: true,
    sequence: { sequencer: LongestFirst },
  },
});
