/**
 * Real peers for multi-peer suites: real Helia, real libp2p over 127.0.0.1 TCP, real
 * LevelDB on disk (or memory stores where a test says so). Every peer and temporary
 * directory is removed after each test.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createDidbase, type Didbase, type DidbaseInit } from '@didbase/sdk'
import { afterEach } from 'vitest'

const peers: Didbase[] = []
const dirs: string[] = []

afterEach(async () => {
  await Promise.allSettled(peers.splice(0).map(async (p) => p.close()))
  await Promise.allSettled(dirs.splice(0).map(async (d) => rm(d, { recursive: true, force: true })))
})

/** The peers of the running test: attack helpers read honest entries' clocks from them. */
export function livePeers (): readonly Didbase[] {
  return peers
}

export async function tempDir (): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'didbase-test-'))
  dirs.push(dir)
  return dir
}

/** The contents of every file under `dir`: what a node left on its disk. */
export async function bytesUnder (dir: string): Promise<Buffer[]> {
  const out: Buffer[] = []
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) out.push(await readFile(join(entry.parentPath, entry.name)))
  }
  return out
}

/** A peer on disk in its own temporary directory (removed after the test). */
export async function peer (init: DidbaseInit = {}): Promise<Didbase> {
  const p = await createDidbase({ directory: init.memory === true ? undefined : await tempDir(), ...init })
  peers.push(p)
  return p
}

export async function connect (a: Didbase, b: Didbase): Promise<void> {
  const addr = b.multiaddrs[0]
  if (addr === undefined) throw new Error('peer has no listen address')
  await a.dial(addr)
}

/** Poll `check` until it returns a value other than undefined/false, or fail at the deadline. */
export async function waitFor<T> (check: () => Promise<T | undefined | false> | T | undefined | false, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let delay = 10
  for (;;) {
    const value = await check()
    if (value !== undefined && value !== false) return value
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, delay))
    delay = Math.min(delay * 2, 100)
  }
}

export async function collect<T> (source: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const item of source) out.push(item)
  return out
}

/** Resolve with the first event of `type` whose detail passes `filter`. */
export async function nextEvent<D> (target: EventTarget, type: string, what: string, filter: (detail: D) => boolean = () => true, timeoutMs = 30_000): Promise<D> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      target.removeEventListener(type, listener)
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`))
    }, timeoutMs)
    const listener = (event: Event): void => {
      const detail = (event as CustomEvent<D>).detail
      if (!filter(detail)) return
      clearTimeout(timer)
      target.removeEventListener(type, listener)
      resolve(detail)
    }
    target.addEventListener(type, listener)
  })
}
