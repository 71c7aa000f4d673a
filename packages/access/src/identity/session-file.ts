/**
 * A delegated identity (a wallet's session, a did-session session, a device key) kept for a
 * directory across restarts: the signing key's seed and its delegation, where the node keeps
 * its own key (`session.json`, owner-only, in Node; an IndexedDB record in browsers). The
 * seed is the session's secret: whoever reads it writes for the user until the delegation
 * expires or the user revokes the key.
 */
import { InvalidKeyError, SessionExpiredError } from '../errors.js'
import type { ProofLink } from '../delegation/link.js'
import { type DelegatedIdentity, delegatedIdentity } from './delegated.js'
import { createDidKeyIdentity, decodeSeed, encodeSeed } from '../did/identity.js'
import { readSecret, removeSecret, replaceSecret, secretLocation } from './secret-store.js'

export const SESSION_FILE = 'session.json'

interface SessionFile {
  /** The user DID the session writes for (for people reading the file). */
  user: string
  /** The session key's did:key and seed. */
  did: string
  seed: string
  proof: ProofLink[]
}

/** Keep `identity` for `directory`, replacing a session kept before (a renewed one). */
export async function keepSession (directory: string, identity: DelegatedIdentity): Promise<void> {
  const body: SessionFile = { user: identity.did, did: identity.signer.did, seed: encodeSeed(identity.signer.seed), proof: [...identity.proof] }
  await replaceSecret(directory, SESSION_FILE, new TextEncoder().encode(`${JSON.stringify(body, null, 2)}\n`))
}

/**
 * The session kept for `directory`, checked as a replica checks it; undefined when none is
 * kept. Throws `SessionExpiredError` (reason `delegation-expired`) once its delegation has
 * expired at `now`: sign in again (`walletSession`) and keep the new one.
 */
export async function loadSession (directory: string, now = Date.now()): Promise<DelegatedIdentity | undefined> {
  const where = secretLocation(directory, SESSION_FILE)
  const bytes = await readSecret(directory, SESSION_FILE)
  if (bytes === undefined) return undefined
  let body: Partial<SessionFile>
  try {
    body = JSON.parse(new TextDecoder().decode(bytes)) as Partial<SessionFile>
  } catch (cause) {
    throw new InvalidKeyError(`${where} is not valid JSON; remove it (forgetSession) and sign in again`, { cause })
  }
  if (typeof body.seed !== 'string' || !Array.isArray(body.proof)) throw new InvalidKeyError(`${where} has no "seed" or "proof"; remove it (forgetSession) and sign in again`)
  const identity = await delegatedIdentity(createDidKeyIdentity({ seed: decodeSeed(body.seed) }), body.proof)
  if (now >= identity.expiresAt) {
    throw new SessionExpiredError(`the session kept in ${where} (for ${identity.did}) expired at ${new Date(identity.expiresAt).toISOString()}; sign in again and keep the new session (keepSession), or remove it (forgetSession)`, identity.expiresAt)
  }
  return identity
}

/** Forget the session kept for `directory`: the node signs with its own key again. */
export async function forgetSession (directory: string): Promise<void> {
  await removeSecret(directory, SESSION_FILE)
}
