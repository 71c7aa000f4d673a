/**
 * The Node.js versions didbase runs on. Its network stack (libp2p 3 and the undici it brings)
 * needs Node 22: on Node 20 it failed deep inside undici ("Cannot read properties of
 * undefined (reading 'bind')"), which told a user nothing. The entry points check first,
 * before any of that stack loads (runtime/check.ts). Browsers are not checked here.
 */

/** The oldest Node.js major line didbase supports. */
export const MIN_NODE_MAJOR = 22

/** The Node.js major lines didbase is tested on. */
export const TESTED_NODE_MAJORS = [22, 24] as const

/** This runtime cannot run didbase: the message says which version was found, which is needed and how to get it. */
export class UnsupportedRuntimeError extends Error {
  static override name = 'UnsupportedRuntimeError'
  override name = 'UnsupportedRuntimeError'
  constructor (readonly found: string, readonly needed: string) {
    super(`didbase needs Node.js ${needed} or later; this is Node.js ${found}. Install Node.js ${MIN_NODE_MAJOR} or ${TESTED_NODE_MAJORS.at(-1)} (https://nodejs.org/en/download, or \`nvm install ${MIN_NODE_MAJOR}\`) and run again.`)
  }
}

/** Why Node.js `version` (default: this process's; none in a browser) cannot run didbase, or undefined. */
export function unsupportedRuntime (version: string | undefined = globalThis.process?.versions?.node): UnsupportedRuntimeError | undefined {
  if (version === undefined) return undefined
  const major = Number(version.split('.')[0])
  return Number.isInteger(major) && major < MIN_NODE_MAJOR ? new UnsupportedRuntimeError(version, String(MIN_NODE_MAJOR)) : undefined
}
