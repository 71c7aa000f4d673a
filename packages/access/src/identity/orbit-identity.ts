/**
 * The OrbitDB identities layer for DIDs: entries are signed directly with the DID's
 * Ed25519 key and `entry.identity` is the DID itself, so any replica verifies an entry
 * offline, with no identity block to fetch.
 */
import type { OrbitIdentities, OrbitIdentity } from '@orbitdb/core'
import { Did } from '../did/did.js'
import { InvariantError } from '../errors.js'
import { encodeSignature, publicKeyOfSignerKey, rememberSignature, signerKeyOf, verifySignature } from './entry.js'
import type { DidIdentity } from './identity.js'

const IDENTITY_TYPE = 'did'
const encoder = new TextEncoder()

async function noSigning (): Promise<string> {
  throw new InvariantError('this identity can only verify; it has no signing key')
}

function toOrbitIdentity (did: string, sign: OrbitIdentity['sign']): OrbitIdentity {
  return {
    id: did,
    hash: did,
    bytes: encoder.encode(did),
    publicKey: signerKeyOf(did),
    type: IDENTITY_TYPE,
    // did:key is self-certifying: the DID is the key, nothing else to sign.
    signatures: { id: did, publicKey: did },
    sign,
    verify: verifySignature
  }
}

export interface OrbitIdentityLayer {
  identity: OrbitIdentity
  identities: OrbitIdentities
}

/** Build the `identity` and `identities` options of `createOrbitDB` for a DID. */
export function orbitIdentityLayer (owner: DidIdentity): OrbitIdentityLayer {
  const sign: OrbitIdentity['sign'] = async (_identity, data) => {
    const sig = encodeSignature(await owner.sign(data))
    rememberSignature(sig, signerKeyOf(owner.did), data)
    return sig
  }
  const identity = toOrbitIdentity(owner.did, sign)
  const identities: OrbitIdentities = {
    keystore: { close: async () => {} },
    createIdentity: async () => identity,
    getIdentity: async (hash) => {
      if (hash === identity.hash) return identity
      return Did.is(hash) ? toOrbitIdentity(hash, noSigning) : undefined
    },
    verifyIdentity: async (candidate) => {
      try {
        publicKeyOfSignerKey(candidate.publicKey)
        return Did.is(candidate.id) && signerKeyOf(candidate.id) === candidate.publicKey
      } catch {
        return false
      }
    },
    sign,
    verify: verifySignature
  }
  return { identity, identities }
}
