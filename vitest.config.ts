import { defineConfig } from 'vitest/config';

// .ci/run sets LOOM_VITEST_REPORT to have the results as JSON too (it counts them from there;
// `npm test` ends with the browser tests, so it cannot pass vitest flags on the command line).
const jsonReport = process.env['LOOM_VITEST_REPORT'];

// Tests run against a real Docker engine and real containers: they are slow by nature and
// share one engine, so files run one at a time and each test gets generous time.
export default defineConfig({
  test: {
    // Renderer tests run in Node too; component tests opt into jsdom with a
    // `// @vitest-environment jsdom` comment at the top of the file.
    include: [
      'electron/**/*.test.ts',
      'shared/**/*.test.ts',
      'bench/**/*.test.ts',
      'resources/**/*.test.ts',
      'renderer/**/*.test.{ts,tsx}',
    ],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    fileParallelism: false,
    pool: 'forks',
    ...(jsonReport ? { reporters: ['default', 'json'], outputFile: { json: jsonReport } } : {}),
  },
});
