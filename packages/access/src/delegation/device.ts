/**
 * Device delegations from a root did:key: a did-jwt JWS (EdDSA) signed by the root, for one
 * device key, with an expiry and a scope. A JWS because invites already are did-jwt tokens
 * checked the same way (one verifier, one set of rules), and because a UCAN's extra
 * machinery (capabilities per resource, proofs by CID) buys nothing a database scope needs.
 */
import { createJWT, decodeJWT, verifyJWT } from 'did-jwt'
import { Resolver } from 'did-resolver'
import KeyDidResolver from 'key-did-resolver'
import { base64url } from 'multiformats/bases/base64'
import { Did } from '../did/did.js'
import { InvalidDelegationError } from '../errors.js'
import type { DidIdentity } from '../did/identity.js'
import { ANY_DATABASE, type DelegationLink, MAX_SCOPE } from './link.js'

const resolver = new Resolver(KeyDidResolver.getResolver())
const seconds = (ms: number): number => Math.floor(ms / 1000)
const DEFAULT_EXPIRY = 30 * 24 * 60 * 60 * 1000

export interface DeviceDelegationOptions {
  /** How long it stays valid, in ms. Default 30 days. */
  expiresIn?: number
  /** Database addresses it covers. Default: any (`['*']`). */
  scope?: string[]
  /** Not valid before, in ms since the epoch. */
  notBefore?: number
}

/** A delegation from `root` to the device key `device` (a did:key), as a JWS. */
export async function createDeviceDelegation (root: DidIdentity, device: string, options: DeviceDelegationOptions = {}): Promise<string> {
  if (!device.startsWith('did:key:')) throw new InvalidDelegationError('a device key is an Ed25519 did:key')
  Did.parse(device)
  const expiresIn = options.expiresIn ?? DEFAULT_EXPIRY
  if (!(expiresIn > 0)) throw new InvalidDelegationError('a delegation must expire in the future (expiresIn > 0)')
  const scope = options.scope ?? [ANY_DATABASE]
  if (scope.length === 0) throw new InvalidDelegationError('a delegation covers at least one database (or "*")')
  if (scope.length > MAX_SCOPE) throw new InvalidDelegationError(`a delegation names at most ${MAX_SCOPE} databases (or "*" for all); this one names ${scope.length}`)
  const signer = async (data: string | Uint8Array): Promise<string> => base64url.baseEncode(await root.sign(typeof data === 'string' ? new TextEncoder().encode(data) : data))
  return createJWT(
    { aud: device, exp: seconds(Date.now() + expiresIn), nbf: seconds(options.notBefore ?? Date.now() - 60_000), didbase: { delegate: { scope } } },
    { issuer: root.did, signer },
    { alg: 'EdDSA', kid: `${root.did}#${root.did.slice('did:key:'.length)}` }
  )
}

/** Check a device delegation's signature and shape; times are the caller's to check. */
export async function verifyDeviceLink (token: string): Promise<DelegationLink> {
  let decoded: ReturnType<typeof decodeJWT>
  try {
    decoded = decodeJWT(token)
  } catch (cause) {
    throw new InvalidDelegationError('not a delegation token (expected a JWS: header.payload.signature)', { cause })
  }
  const { header, payload } = decoded
  if (header.alg !== 'EdDSA') throw new InvalidDelegationError(`delegation signed with alg ${JSON.stringify(header.alg)}; only EdDSA is accepted`)
  const iss = payload.iss
  const aud = payload.aud
  const scope = (payload as { didbase?: { delegate?: { scope?: unknown } } }).didbase?.delegate?.scope
  if (typeof iss !== 'string' || !iss.startsWith('did:key:') || !Did.is(iss)) throw new InvalidDelegationError('the delegation\'s issuer is not a did:key')
  if (typeof aud !== 'string' || !aud.startsWith('did:key:') || !Did.is(aud)) throw new InvalidDelegationError('the delegation\'s audience is not an Ed25519 did:key')
  if (header.kid !== undefined && header.kid.split('#')[0] !== iss) throw new InvalidDelegationError('the delegation\'s key id names another DID than its issuer')
  if (typeof payload.exp !== 'number') throw new InvalidDelegationError('the delegation has no expiry (exp)')
  if (!Array.isArray(scope) || scope.length === 0 || scope.some((s) => typeof s !== 'string')) throw new InvalidDelegationError('the delegation names no databases (didbase.delegate.scope)')
  if (scope.length > MAX_SCOPE) throw new InvalidDelegationError(`a delegation names at most ${MAX_SCOPE} databases (or "*" for all); this one names ${scope.length}`)
  try {
    // Times are judged by the caller, against the entry's own time.
    await verifyJWT(token, { resolver, audience: aud, policies: { nbf: false, iat: false, exp: false } })
  } catch (cause) {
    throw new InvalidDelegationError(`the delegation's signature does not verify with ${iss}'s key`, { cause })
  }
  return { issuer: iss, audience: aud, notBefore: typeof payload.nbf === 'number' ? payload.nbf * 1000 : 0, expiresAt: payload.exp * 1000, scope: scope as string[] }
}
