import { defineConfig } from 'vitest/config';

// Tests run against a real Docker engine and real containers: they are slow by nature and
// share one engine, so files run one at a time and each test gets generous time.
export default defineConfig({
  test: {
    include: ['electron/**/*.test.ts', 'shared/**/*.test.ts', 'bench/**/*.test.ts', 'resources/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    fileParallelism: false,
    pool: 'forks',
  },
});
