/** Which Node.js versions didbase accepts, and what it says to the others (no process is started: the version is passed in). */
import { describe, expect, it } from 'vitest'
import { MIN_NODE_MAJOR, UnsupportedRuntimeError, unsupportedRuntime } from '../src/runtime/node-version.js'

describe('unsupportedRuntime', () => {
  it('accepts Node.js 22 and later, and a runtime that is not Node.js (a browser)', () => {
    for (const version of ['22.0.0', '22.23.3', '24.21.0', '26.1.0']) expect(unsupportedRuntime(version)).toBeUndefined()
    expect(MIN_NODE_MAJOR).toBe(22)
  })

  it('refuses Node.js 20 and 18 with the version found, the version needed and how to get it', () => {
    for (const version of ['20.20.2', '18.19.0']) {
      const err = unsupportedRuntime(version)
      expect(err).toBeInstanceOf(UnsupportedRuntimeError)
      expect(err?.name).toBe('UnsupportedRuntimeError')
      expect(err?.found).toBe(version)
      expect(err?.message).toContain(`this is Node.js ${version}`)
      expect(err?.message).toContain('needs Node.js 22 or later')
      expect(err?.message).toContain('nvm install 22')
    }
  })

  it('accepts this process (the tests run on a supported Node.js)', () => {
    expect(unsupportedRuntime()).toBeUndefined()
  })
})
