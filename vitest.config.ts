import { defineConfig } from 'vitest/config';

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
  },
});
