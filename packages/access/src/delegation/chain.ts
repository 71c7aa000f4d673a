/**
 * A delegation chain, as a replica judges it: each link verified (once, cached by content),
 * links joined issuer to audience, the scope and validity window narrowed at each step.
 * What the chain proves: its first issuer (the user DID) lets its last audience (the key
 * that signs entries) write to the databases in scope, within the window.
 */
import * as dagCbor from '@ipld/dag-cbor'
import { sha256 } from '@noble/hashes/sha2.js'
import { base64url } from 'multiformats/bases/base64'
import QuickLRU from 'quick-lru'
import { InvalidDelegationError } from '../errors.js'
import { verifyCacaoLink } from './cacao.js'
import { verifyDeviceLink } from './device.js'
import { ANY_DATABASE, type DelegationLink, MAX_CHAIN, MAX_SCOPE_NAME, type ProofLink } from './link.js'

/** What a chain proves. */
export interface Delegation extends DelegationLink {
  /** The first issuer: the user DID the signer acts for. */
  issuer: string
  /** The last audience: the did:key whose signatures count as the user's. */
  audience: string
  /** Every key the chain passes through below the user, in order (the last is `audience`): revoking any of them revokes this one. */
  keys: string[]
  /** When the user's own link (the first) starts: how a user's delegations are ordered, whatever keys further down the chain claim. */
  delegatedAt: number
}

const verified = new QuickLRU<string, Promise<Delegation>>({ maxSize: 1024 })
/** Chains larger than this (dag-cbor encoded) are verified each time, not kept: a device link naming one database takes about 700 bytes. */
const CACHED_AT_MOST = 16 * 1024

async function verifyLink (link: ProofLink): Promise<DelegationLink> {
  if (typeof link === 'string') return verifyDeviceLink(link)
  if (typeof link === 'object' && link !== null) return verifyCacaoLink(link)
  throw new InvalidDelegationError('a delegation link is a JWS string or a CACAO')
}

async function verifyChain (proof: readonly ProofLink[]): Promise<Delegation> {
  // A name longer than any address covers no database: dropped, not kept (the cache would
  // keep a stranger's megabytes of them), and no verdict changes, so no rules version is needed.
  const links = (await Promise.all(proof.map(verifyLink))).map((link) => ({ ...link, scope: link.scope.filter((name) => name.length <= MAX_SCOPE_NAME) }))
  let scope: string[] = [ANY_DATABASE]
  let notBefore = 0
  let expiresAt = Number.POSITIVE_INFINITY
  links.forEach((link, i) => {
    const previous = links[i - 1]
    if (previous !== undefined && previous.audience !== link.issuer) {
      throw new InvalidDelegationError(`link ${i + 1} of the delegation is issued by ${link.issuer}, not by ${previous.audience}, the key the link before delegated to`)
    }
    if (previous !== undefined && !link.issuer.startsWith('did:key:')) throw new InvalidDelegationError('only the first link of a delegation may be issued by a wallet')
    // Linear in the scopes' sizes: a hostile chain of two long scopes must not cost their product.
    const allowed = new Set(link.scope)
    scope = scope.includes(ANY_DATABASE) ? link.scope : allowed.has(ANY_DATABASE) ? scope : scope.filter((s) => allowed.has(s))
    notBefore = Math.max(notBefore, link.notBefore)
    expiresAt = Math.min(expiresAt, link.expiresAt)
  })
  const first = links[0] as DelegationLink
  const last = links[links.length - 1] as DelegationLink
  return { issuer: first.issuer, audience: last.audience, keys: links.map((l) => l.audience), delegatedAt: first.notBefore, notBefore, expiresAt, scope }
}

/**
 * Verify a chain: `InvalidDelegationError` when a link is malformed, forged or does not
 * follow the one before, or when the chain is empty or longer than `MAX_CHAIN`.
 */
export async function verifyDelegation (proof: unknown): Promise<Delegation> {
  if (!Array.isArray(proof) || proof.length === 0) throw new InvalidDelegationError('a delegation is a non-empty list of links')
  if (proof.length > MAX_CHAIN) throw new InvalidDelegationError(`a delegation chain has at most ${MAX_CHAIN} links; this one has ${proof.length}`)
  let id: string
  let bytes: number
  try {
    const encoded = dagCbor.encode(proof)
    bytes = encoded.byteLength
    id = base64url.baseEncode(sha256(encoded))
  } catch (cause) {
    throw new InvalidDelegationError('the delegation is not dag-cbor', { cause })
  }
  // A large chain (a stranger's, naming a thousand long names) is checked, never kept.
  if (bytes > CACHED_AT_MOST) return verifyChain(proof as ProofLink[])
  let result = verified.get(id)
  if (result === undefined) {
    result = verifyChain(proof as ProofLink[])
    verified.set(id, result)
    // A failure is not kept: the same bytes fail again for the same reason, cheaply enough.
    result.catch(() => { verified.delete(id) })
  }
  return result
}

/** How many verified chains are kept (for tests of the bound). */
export function cachedDelegations (): number {
  return verified.size
}

/** Why `delegation` does not let `signer` write to `address` for `user` at `at`, if it does not. */
export function delegationDenial (delegation: Delegation, expect: { user: string, signer: string, address: string, at: number }): { reason: 'invalid-delegation' | 'delegation-expired', detail: string } | undefined {
  if (delegation.issuer !== expect.user) return { reason: 'invalid-delegation', detail: `the delegation is from ${delegation.issuer}, not from ${expect.user}, the DID the entry claims` }
  if (delegation.audience !== expect.signer) return { reason: 'invalid-delegation', detail: `the delegation is for ${delegation.audience}, not for the key that signed the entry (${expect.signer})` }
  if (!delegation.scope.includes(ANY_DATABASE) && !delegation.scope.includes(expect.address)) return { reason: 'invalid-delegation', detail: `the delegation does not cover ${expect.address}` }
  if (expect.at < delegation.notBefore) return { reason: 'delegation-expired', detail: `the entry's time ${new Date(expect.at).toISOString()} is before the delegation is valid (${new Date(delegation.notBefore).toISOString()})` }
  if (expect.at >= delegation.expiresAt) return { reason: 'delegation-expired', detail: `the delegation expired at ${new Date(delegation.expiresAt).toISOString()}, before the entry's time` }
  return undefined
}
