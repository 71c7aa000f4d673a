/**
 * One link of a delegation chain, whatever signed it: who delegates (`issuer`), to which
 * did:key (`audience`), when, and for which databases. Checked links are cached by their
 * content, so a replica verifies a delegation once, however many entries cite it.
 */
export interface DelegationLink {
  /** The DID that delegates: the user DID for the first link, then each audience in turn. */
  issuer: string
  /** The did:key (Ed25519) it delegates to. */
  audience: string
  /** Valid from, in ms since the epoch (inclusive). */
  notBefore: number
  /** Valid until, in ms since the epoch (exclusive). */
  expiresAt: number
  /** Database addresses it covers, or `['*']` for any. */
  scope: string[]
}

/** A delegation as carried in an entry: a CACAO (an object) or a did-jwt JWS (a string) per link, the user's first. */
export type ProofLink = string | Record<string, unknown>

/** The longest chain a replica follows: user, one device, one session below it. */
export const MAX_CHAIN = 3
/**
 * Most databases one link may name: a delegation covers a few databases or all (`*`), and a
 * link naming more is refused before its signature is checked, so a stranger's huge scope
 * costs a replica almost nothing.
 */
export const MAX_SCOPE = 1024
/** Longest name a scope may hold: an OrbitDB address takes about 60 characters. */
export const MAX_SCOPE_NAME = 256
/** What a scope names to cover every database. */
export const ANY_DATABASE = '*'
/** How a database address is written as a SIWE resource (a URI), and the wildcard. */
export const RESOURCE_PREFIX = 'didbase:'
