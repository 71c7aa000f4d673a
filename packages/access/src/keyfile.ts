import { chmod, mkdir, open, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { didOfPublicKey } from './did.js'
import { InvalidKeyError } from './errors.js'
import { createDidKeyIdentity, type DidKeyIdentity, decodeSeed, encodeSeed } from './identity.js'

export const IDENTITY_FILE = 'identity.json'

interface IdentityFile {
  did: string
  seed: string
}

/**
 * Load the identity kept in `directory`, or create one and save it there with mode 0600
 * (owner read/write only). A restart with the same directory keeps the same DID.
 */
export async function loadOrCreateIdentity (directory: string, init: { seed?: Uint8Array } = {}): Promise<DidKeyIdentity> {
  const path = join(directory, IDENTITY_FILE)
  const existing = await readIdentityFile(path)
  if (existing !== undefined) {
    if (init.seed !== undefined && encodeSeed(init.seed) !== encodeSeed(existing.seed)) {
      throw new InvalidKeyError(`${path} holds another identity (${existing.did}) than the seed given; use another directory`)
    }
    return existing
  }
  const identity = createDidKeyIdentity(init)
  await mkdir(directory, { recursive: true })
  const body: IdentityFile = { did: identity.did, seed: encodeSeed(identity.seed) }
  await writeSecretFile(path, `${JSON.stringify(body, null, 2)}\n`)
  return identity
}

/**
 * Create a file only its owner can read (mode 0600) and flush it to disk. Fails if the
 * file exists, so a key is never overwritten, even by a concurrent process.
 */
export async function writeSecretFile (path: string, data: string | Uint8Array): Promise<void> {
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

async function readIdentityFile (path: string): Promise<DidKeyIdentity | undefined> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
  let body: Partial<IdentityFile>
  try {
    body = JSON.parse(text) as Partial<IdentityFile>
  } catch (cause) {
    throw new InvalidKeyError(`${path} is not valid JSON; restore it from a backup or move it away to create a new identity`, { cause })
  }
  if (typeof body.seed !== 'string') throw new InvalidKeyError(`${path} has no "seed"`)
  const identity = createDidKeyIdentity({ seed: decodeSeed(body.seed) })
  if (body.did !== undefined && body.did !== identity.did) {
    throw new InvalidKeyError(`${path} names ${body.did} but its seed is the key of ${didOfPublicKey(identity.publicKey)}`)
  }
  return identity
}
