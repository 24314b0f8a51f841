import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Generous: these tests drive real servers and processes, and CI machines have 2 cores.
    testTimeout: 180_000,
    hookTimeout: 120_000,
    // Tests start real servers and processes; two cores do not like many forks at once.
    maxWorkers: 3,
    fileParallelism: true,
  },
});
