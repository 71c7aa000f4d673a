import { configDefaults, defineConfig } from 'vitest/config'

const CONSUMER = 'test/consumer.spec.ts'
// Suites of many short-lived `didbase` processes, each loading the libp2p stack.
const COMMANDS = ['test/cli.spec.ts', 'test/peer.spec.ts']
// The flood gates (a victim replica in its own process under floods of each hostile kind) run in `npm run test:faults`.
const FAULTS_ONLY = process.env.DIDBASE_FAULTS === 'long' ? [] : ['test/faults/flood.spec.ts']

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Multi-peer suites start real libp2p nodes; two cores are shared by the files.
    fileParallelism: true,
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: {
          name: 'didbase',
          include: ['packages/*/test/**/*.spec.ts', 'test/**/*.spec.ts', 'examples/*/test/**/*.spec.ts'],
          exclude: [...configDefaults.exclude, CONSUMER, ...COMMANDS, ...FAULTS_ONLY],
          sequence: { groupOrder: 0 }
        }
      },
      // Beside the rest (one group, so that two workers stay busy to the end): the command
      // suites wait on short-lived processes, the packed-tarball install on npm and the
      // compiler. Their tests allow 180 s each (about 25 s alone), so a loaded machine costs
      // time, not verdicts.
      { extends: true, test: { name: 'commands', include: COMMANDS, sequence: { groupOrder: 0 } } },
      { extends: true, test: { name: 'consumer', include: [CONSUMER], testTimeout: 180_000, sequence: { groupOrder: 0 } } }
    ],
    // .ci/run asks for a machine-readable summary to print its closing count.
    ...(process.env.DIDBASE_TEST_REPORT
      ? { reporters: ['default', 'json'], outputFile: { json: process.env.DIDBASE_TEST_REPORT } }
      : {})
  }
})
