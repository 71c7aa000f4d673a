import { readSecret, secretLocation, writeSecret } from './secret-store.js'
import { didOfPublicKey } from '../did/did.js'
import { InvalidKeyError } from '../errors.js'
import { createDidKeyIdentity, type DidKeyIdentity, decodeSeed, encodeSeed } from '../did/identity.js'

export const IDENTITY_FILE = 'identity.json'

interface IdentityFile {
  did: string
  seed: string
}

/**
 * Load the identity kept for `directory`, or create one and keep it there: a file only its
 * owner can read in Node, an IndexedDB record in browsers. A restart (or a page reload)
 * with the same directory keeps the same DID.
 */
export async function loadOrCreateIdentity (directory: string, init: { seed?: Uint8Array } = {}): Promise<DidKeyIdentity> {
  const where = secretLocation(directory, IDENTITY_FILE)
  const existing = await readIdentity(directory)
  if (existing !== undefined) {
    if (init.seed !== undefined && encodeSeed(init.seed) !== encodeSeed(existing.seed)) {
      throw new InvalidKeyError(`${where} holds another identity (${existing.did}) than the seed given; use another directory`)
    }
    return existing
  }
  const identity = createDidKeyIdentity(init)
  const body: IdentityFile = { did: identity.did, seed: encodeSeed(identity.seed) }
  await writeSecret(directory, IDENTITY_FILE, new TextEncoder().encode(`${JSON.stringify(body, null, 2)}\n`))
  return identity
}

async function readIdentity (directory: string): Promise<DidKeyIdentity | undefined> {
  const where = secretLocation(directory, IDENTITY_FILE)
  const bytes = await readSecret(directory, IDENTITY_FILE)
  if (bytes === undefined) return undefined
  let body: Partial<IdentityFile>
  try {
    body = JSON.parse(new TextDecoder().decode(bytes)) as Partial<IdentityFile>
  } catch (cause) {
    throw new InvalidKeyError(`${where} is not valid JSON; restore it from a backup or move it away to create a new identity`, { cause })
  }
  if (typeof body.seed !== 'string') throw new InvalidKeyError(`${where} has no "seed"`)
  const identity = createDidKeyIdentity({ seed: decodeSeed(body.seed) })
  if (body.did !== undefined && body.did !== identity.did) {
    throw new InvalidKeyError(`${where} names ${body.did} but its seed is the key of ${didOfPublicKey(identity.publicKey)}`)
  }
  return identity
}
