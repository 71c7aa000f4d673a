/**
 * Wallet delegations: a Sign-In with Ethereum (EIP-4361) message signed by the wallet
 * (EIP-191 `personal_sign`), as a CACAO (CAIP-74), the format did-session produces. Its
 * signature is checked by `@didtools/cacao` and `@didtools/pkh-ethereum`, offline; its times
 * are checked by the caller against the entry's own time, never this replica's clock.
 */
import { Cacao } from '@didtools/cacao'
import { getEIP191Verifier } from '@didtools/pkh-ethereum'
import { canonicalPkh, Did } from '../did/did.js'
import { InvalidDelegationError } from '../errors.js'
import { ANY_DATABASE, type DelegationLink, MAX_SCOPE, RESOURCE_PREFIX } from './link.js'

const verifiers = getEIP191Verifier()

function time (value: unknown, what: string): number | undefined {
  if (value === undefined) return undefined
  const ms = typeof value === 'string' ? Date.parse(value) : Number.NaN
  if (!Number.isFinite(ms)) throw new InvalidDelegationError(`the CACAO's ${what} is not a date`)
  return ms
}

/** The databases a SIWE message's resources name (`didbase:<address>`, `didbase:*`); other resources are ignored. */
export function scopeOfResources (resources: unknown): string[] {
  if (!Array.isArray(resources)) return []
  return resources.filter((r): r is string => typeof r === 'string' && r.startsWith(RESOURCE_PREFIX)).map((r) => r.slice(RESOURCE_PREFIX.length))
}

export function resourceOf (address: string): string {
  return `${RESOURCE_PREFIX}${address === ANY_DATABASE ? ANY_DATABASE : address}`
}

/** The latest time a Date holds: no `iat` or `nbf` is after it. */
const END_OF_TIME = new Date(8.64e15)

/** Check a CACAO's shape and signature; `InvalidDelegationError` when it is not one didbase accepts. */
export async function verifyCacaoLink (value: Record<string, unknown>): Promise<DelegationLink> {
  const cacao = value as { h?: { t?: unknown }, p?: Record<string, unknown>, s?: { t?: unknown, s?: unknown } }
  if (cacao.h?.t !== 'eip4361' || typeof cacao.p !== 'object' || cacao.p === null) throw new InvalidDelegationError('not a CACAO of a Sign-In with Ethereum message')
  if (cacao.s?.t === 'eip1271') {
    throw new InvalidDelegationError('contract wallets (ERC-1271) are verified by a call to the chain; didbase verifies every entry offline, so it accepts externally owned accounts (EIP-191) only')
  }
  if (cacao.s?.t !== 'eip191' || typeof cacao.s.s !== 'string') throw new InvalidDelegationError('the CACAO is not signed with EIP-191 personal_sign')
  const p = cacao.p
  const issuer = typeof p.iss === 'string' ? canonicalPkh(p.iss) : undefined
  if (issuer === undefined) throw new InvalidDelegationError('the CACAO\'s issuer is not a did:pkh:eip155 account')
  if (typeof p.aud !== 'string' || !p.aud.startsWith('did:key:') || !Did.is(p.aud)) throw new InvalidDelegationError('the CACAO\'s audience is not an Ed25519 did:key')
  const expiresAt = time(p.exp, 'expiration time')
  if (expiresAt === undefined) throw new InvalidDelegationError('the CACAO has no expiration time; didbase accepts delegations that expire')
  const notBefore = Math.max(time(p.iat, 'issued-at time') ?? 0, time(p.nbf, 'not-before time') ?? 0)
  if (Array.isArray(p.resources) && p.resources.length > MAX_SCOPE) throw new InvalidDelegationError(`a delegation names at most ${MAX_SCOPE} resources; this one names ${p.resources.length}`)
  try {
    // The signature only: a delegation's window is judged against each entry's own `at`
    // (chain.ts), never this replica's clock, or replicas with different clocks would disagree.
    await Cacao.verify(cacao as never, { verifiers, disableExpirationCheck: true, atTime: END_OF_TIME })
  } catch (cause) {
    throw new InvalidDelegationError(`the CACAO's signature does not verify as ${issuer}'s (a field changed after signing, or another wallet signed it)`, { cause })
  }
  return { issuer, audience: p.aud, notBefore, expiresAt, scope: scopeOfResources(p.resources) }
}
