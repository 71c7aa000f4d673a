import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.spec.ts', 'test/**/*.spec.ts', 'examples/*/test/**/*.spec.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Multi-peer suites start real libp2p nodes; two cores are shared by the files.
    fileParallelism: true,
    maxWorkers: 2,
    // .ci/run asks for a machine-readable summary to print its closing count.
    ...(process.env.DIDBASE_TEST_REPORT
      ? { reporters: ['default', 'json'], outputFile: { json: process.env.DIDBASE_TEST_REPORT } }
      : {})
  }
})
