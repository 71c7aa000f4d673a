/**
 * Where secrets (the DID's seed, the libp2p key) are kept: a file per secret in the data
 * directory, readable by its owner only. The browser build (secret-store.browser.ts) keeps
 * them in IndexedDB instead; the `browser` field of package.json swaps it in for bundlers.
 */
import { chmod, mkdir, open, readFile, rename, rm } from 'node:fs/promises'
import { join } from 'node:path'

/** Where `name` is kept, for messages. */
export function secretLocation (directory: string, name: string): string {
  return join(directory, name)
}

/** The secret `name` kept for `directory`, or undefined if there is none yet. */
export async function readSecret (directory: string, name: string): Promise<Uint8Array | undefined> {
  try {
    return new Uint8Array(await readFile(join(directory, name)))
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
}

/**
 * Keep a new secret: a file only its owner can read (mode 0600), flushed to disk. Fails if
 * it exists, so a key is never overwritten, even by a concurrent process.
 */
export async function writeSecret (directory: string, name: string, data: Uint8Array): Promise<void> {
  await mkdir(directory, { recursive: true })
  const path = join(directory, name)
  const file = await open(path, 'wx', 0o600)
  try {
    await file.writeFile(data)
    await file.sync()
  } finally {
    await file.close()
  }
  // The umask may have narrowed the mode at creation; make it exactly 0600.
  await chmod(path, 0o600)
}

/**
 * Keep a secret that may replace an earlier one (a renewed session): written to a new
 * owner-only file, flushed, then renamed over the old one, so a crash leaves one or the other.
 */
export async function replaceSecret (directory: string, name: string, data: Uint8Array): Promise<void> {
  const temporary = `${name}.${process.pid}.${Date.now()}.new`
  await writeSecret(directory, temporary, data)
  await rename(join(directory, temporary), join(directory, name))
}

/** Forget the secret `name` of `directory`, if it is kept. */
export async function removeSecret (directory: string, name: string): Promise<void> {
  await rm(join(directory, name), { force: true })
}
