/**
 * Invites: a capability an admin gives to one DID, as a did-jwt JWS (EdDSA). It names one
 * database and one role, and must carry an expiry. The invitee redeems it by appending a
 * `redeem` operation that every replica checks the same way.
 */
import { createJWT, decodeJWT, verifyJWT } from 'did-jwt'
import { Resolver } from 'did-resolver'
import KeyDidResolver from 'key-did-resolver'
import { base64url } from 'multiformats/bases/base64'
import { Did } from '../did/did.js'
import { InvalidInviteError, InviteExpiredError } from '../errors.js'
import type { DidIdentity } from '../did/identity.js'
import { isRole, type Role } from '../policy/operations.js'
import { type EpochShare, epochSharesOf } from '../policy/share-shape.js'

/** What an invite grants, read from its token. Times are ms since the epoch. */
export interface InviteClaims {
  /** Unique id (`jti`); an admin cancels an invite by this id. */
  id: string
  /** The admin DID that issued it. */
  issuer: string
  /** The DID it is for; only this DID can redeem it. */
  audience: string
  /** The database address it is scoped to. */
  address: string
  role: Role
  expiresAt: number
  notBefore?: number
  issuedAt?: number
  /** Private databases: the epoch keys current when it was issued, wrapped for the audience. */
  keys?: EpochShare[]
  /** `issuedAt` is to the millisecond (invites from this version); otherwise whole seconds, from `iat`. */
  issuedExactly?: boolean
}

export interface CreateInviteOptions {
  /** The database address the invite is for. */
  address: string
  /** The DID being invited. */
  audience: string
  /** Default `writer`. */
  role?: Role
  /** How long the invite stays valid, in ms. Default 7 days. Ignored when `expiresAt` is given. */
  expiresIn?: number
  /** When the invite expires, in ms since the epoch. */
  expiresAt?: number
  /** Not valid before this time, in ms since the epoch. */
  notBefore?: number
  /** Private databases: the current epoch keys wrapped for the audience, so it reads as soon as it redeems. */
  keys?: EpochShare[]
}

const DEFAULT_EXPIRY = 7 * 24 * 60 * 60 * 1000
const resolver = new Resolver(KeyDidResolver.getResolver())
const seconds = (ms: number): number => Math.floor(ms / 1000)

/**
 * Issue an invite signed by `issuer`. Whether the issuer is an admin is checked where the
 * invite is redeemed, against the policy in the redeeming entry's causal past.
 */
export async function createInvite (issuer: DidIdentity, options: CreateInviteOptions): Promise<string> {
  const audience = Did.parse(options.audience)
  const role = options.role ?? 'writer'
  if (!isRole(role)) throw new InvalidInviteError(`unknown role ${JSON.stringify(role)}; use "writer", "reader" or "admin"`)
  const expiresAt = options.expiresAt ?? Date.now() + (options.expiresIn ?? DEFAULT_EXPIRY)
  if (!Number.isFinite(expiresAt) || expiresAt <= Date.now()) {
    throw new InvalidInviteError('an invite must expire in the future (expiresIn > 0)')
  }
  const payload = {
    aud: audience,
    exp: seconds(expiresAt),
    jti: globalThis.crypto.randomUUID(),
    // `issued`: when, to the millisecond (`iat` has whole seconds), so a revocation voids exactly the invites issued before it.
    didbase: { db: options.address, role, issued: Date.now(), ...(options.keys !== undefined ? { keys: options.keys } : {}) },
    ...(options.notBefore !== undefined ? { nbf: seconds(options.notBefore) } : {})
  }
  const signer = async (data: string | Uint8Array): Promise<string> => {
    const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data
    return base64url.baseEncode(await issuer.sign(bytes))
  }
  return createJWT(payload, { issuer: issuer.did, signer }, { alg: 'EdDSA', kid: `${issuer.did}#${issuer.did.slice('did:key:'.length)}` })
}

function claimsOf (payload: Record<string, unknown>): InviteClaims {
  const scope = payload.didbase as { db?: unknown, role?: unknown, keys?: unknown, issued?: unknown } | undefined
  if (typeof payload.iss !== 'string' || !Did.is(payload.iss)) throw new InvalidInviteError('the invite has no issuer DID')
  if (typeof payload.aud !== 'string' || !Did.is(payload.aud)) throw new InvalidInviteError('the invite has no audience DID')
  if (typeof scope?.db !== 'string' || !isRole(scope.role)) throw new InvalidInviteError('the invite does not name a database and a role')
  if (typeof payload.exp !== 'number') throw new InvalidInviteError('the invite has no expiry (exp)')
  if (typeof payload.jti !== 'string' || payload.jti.length === 0) throw new InvalidInviteError('the invite has no id (jti)')
  const keys = scope.keys === undefined ? undefined : epochSharesOf(scope.keys)
  if (typeof keys === 'string') throw new InvalidInviteError(`the invite's keys: ${keys}`)
  return {
    id: payload.jti,
    issuer: payload.iss,
    audience: payload.aud,
    address: scope.db,
    role: scope.role,
    expiresAt: payload.exp * 1000,
    ...(typeof payload.nbf === 'number' ? { notBefore: payload.nbf * 1000 } : {}),
    ...(typeof scope.issued === 'number' && Number.isSafeInteger(scope.issued) ? { issuedAt: scope.issued, issuedExactly: true } : typeof payload.iat === 'number' ? { issuedAt: payload.iat * 1000 } : {}),
    ...(keys !== undefined ? { keys } : {})
  }
}

/** Read an invite without checking its signature: to show it, or to find its database. */
export function decodeInvite (token: string): InviteClaims {
  let decoded: ReturnType<typeof decodeJWT>
  try {
    decoded = decodeJWT(token)
  } catch (cause) {
    throw new InvalidInviteError('not an invite token (expected a JWS: header.payload.signature)', 'invalid-invite', { cause })
  }
  return claimsOf(decoded.payload as Record<string, unknown>)
}

export interface VerifyInviteOptions {
  /** The database it is redeemed for. */
  address: string
  /** The DID redeeming it. */
  audience: string
  /** The time it is judged at, in ms: the redeeming entry's own `at`, never the local clock. */
  at: number
}

/**
 * Check an invite: EdDSA only, signed by the key of its issuer DID (a `kid` naming any
 * other DID is refused), for this database and this audience, valid at `at`.
 * Throws `InvalidInviteError` or `InviteExpiredError`; returns the claims.
 */
export async function verifyInvite (token: string, options: VerifyInviteOptions): Promise<InviteClaims> {
  let decoded: ReturnType<typeof decodeJWT>
  try {
    decoded = decodeJWT(token)
  } catch (cause) {
    throw new InvalidInviteError('not an invite token (expected a JWS: header.payload.signature)', 'invalid-invite', { cause })
  }
  const { header } = decoded
  if (header.alg !== 'EdDSA') throw new InvalidInviteError(`invite signed with alg ${JSON.stringify(header.alg)}; only EdDSA is accepted`)
  const claims = claimsOf(decoded.payload as Record<string, unknown>)
  if (header.kid !== undefined && header.kid.split('#')[0] !== claims.issuer) {
    throw new InvalidInviteError(`the invite's key id names ${header.kid.split('#')[0]}, not its issuer ${claims.issuer}`)
  }
  if (claims.address !== options.address) throw new InvalidInviteError(`the invite is for ${claims.address}, not ${options.address}`)
  if (claims.audience !== options.audience) throw new InvalidInviteError(`the invite is for ${claims.audience}, not ${options.audience}`)
  if (claims.expiresAt <= options.at) {
    throw new InviteExpiredError(`the invite expired at ${new Date(claims.expiresAt).toISOString()}; ask ${claims.issuer} for a new one`, claims.expiresAt)
  }
  if (claims.notBefore !== undefined && claims.notBefore > options.at) {
    throw new InvalidInviteError(`the invite is not valid before ${new Date(claims.notBefore).toISOString()}`, 'invite-expired')
  }
  try {
    // Time claims were judged above against `at`; did-jwt is given the same instant.
    await verifyJWT(token, { resolver, audience: options.audience, skewTime: 0, policies: { now: seconds(options.at), nbf: false, iat: false, exp: false } })
  } catch (cause) {
    throw new InvalidInviteError(`the invite's signature does not verify with ${claims.issuer}'s key`, 'invalid-invite', { cause })
  }
  return claims
}
