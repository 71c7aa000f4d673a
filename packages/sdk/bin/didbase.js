#!/usr/bin/env node
// A committed entry point, so npm links the `didbase` command at install time, before the
// TypeScript build has produced dist/. The Node.js version is checked before anything else
// loads: on an older one, one line says what to do, with exit code 5.
import { unsupportedRuntime } from '../dist/runtime/node-version.js'

const problem = unsupportedRuntime()
if (problem !== undefined) {
  process.stderr.write(`didbase: ${problem.message}\n`)
  process.exit(5)
}
await import('../dist/cli/main.js')
