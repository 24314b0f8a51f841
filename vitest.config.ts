import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Generous: these tests drive real servers and processes, and CI machines have 2 cores.
    testTimeout: 180_000,
    hookTimeout: 120_000,
    // Tests mostly wait on real servers and processes: three forks keep two cores busy, not flooded.
    maxWorkers: 3,
    fileParallelism: true,
  },
});
