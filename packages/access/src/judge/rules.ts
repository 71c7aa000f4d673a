/**
 * The policy itself: may a candidate entry do what it asks, given the access operations in
 * its causal past? One rule per access action, then the writer, schema and ownership
 * checks for data. Every input is the entry and its past, so every replica agrees.
 */
import type { Schema } from '@didbase/schemas'
import { type AclEffect, type AclFold, type AclOpFacts, type AclSet, type AclSets, type AclState, type DeliveredKey, type Genesis, membersOf, revokedKeys, voids } from '../policy/acl-state.js'
import type { RejectionReason } from '../errors.js'
import { verifyInvite } from '../invite/invite.js'
import { type Denial, firstDenial, invalid } from '../policy/denial.js'
import { type AclOperation, dataOperationsOf, type Operation } from '../policy/operations.js'
import { holdsKeys, keyRecipients, memberDevices, membersWithout } from '../private/key-holders.js'
import type { CarriedChain, CarriedShare } from '../private/key-log.js'
import { sealedDenial } from '../private/sealed-value.js'
import { type Delegation, delegationDenial, verifyDelegation } from '../delegation/chain.js'
import { InvalidDelegationError } from '../errors.js'
import { type EpochShare, GENESIS_EPOCH, type Rekey, recipientsOf, sameDids } from '../policy/share-shape.js'
import type { Creation, OwnershipIndex } from './ownership.js'
import type { SchemaCache } from './schemas.js'

export interface JudgeRules extends Genesis {
  /** Values of PUT and ADD operations must match it, until a `set-schema` replaces it. */
  schema?: Schema
  /** Fetch and check a schema document by CID (`set-schema`). Throws `InvalidSchemaError` for a bad one. */
  loadSchema?: (cid: string) => Promise<Schema>
  /** Access operations (grant, revoke, invites) are allowed. */
  mutable: boolean
  /** Records may be changed only by the DID that created them, or an admin. */
  ownership: boolean
  /** Values are sealed under epoch keys; roles include readers. */
  private?: boolean
  /** The rules version of the policy block (`RULES_VERSION`); 1 for databases made before versions. */
  version?: number
}

/** What an accepted entry leaves for the entries that follow it. */
export interface Facts {
  time: number
  did: string
  /** Access operations in the past of this entry, and this entry if it is one. */
  acl: AclSet
  /** Set for access operations. */
  aclOp?: AclOpFacts
  /** Key shares and chain links an accepted access operation carries; taken by the judge's key log. */
  carried?: { shares: CarriedShare[], chain?: CarriedChain }
  /**
   * Set for data entries when ownership is on: each record key the entry writes, with the
   * creations of that record in its past (none when this entry creates it). Dropped once indexed.
   */
  records?: Array<{ key: string, reached: Creation[] }>
  /** Kept when ownership is on: the search for a record's creation walks them. `next` come first. */
  parents?: readonly string[]
  nextCount?: number
}

export interface Candidate {
  hash: string
  /** The DID the entry claims (a user DID when delegated). */
  did: string
  /** The did:key that signed it: `did`, or a key `did` delegated to. */
  signer: string
  time: number
  /** `next` then `refs`, without repeats. */
  parents: string[]
  nextCount: number
  op: Operation
  /** Access operations in its past. */
  pastAcl: AclSet
}

export interface RuleContext {
  address: string
  rules: JudgeRules
  fold: AclFold
  sets: AclSets
  schemas: SchemaCache
  ownership: OwnershipIndex
  /** The facts of an accepted access operation (to check that an epoch a share names exists). */
  aclOp: (hash: string) => AclOpFacts | undefined
}

export function isDenial (value: Facts | Denial): value is Denial {
  return (value as Denial).reason !== undefined
}

/** Why a data operation's value (or one of a batch's) does not fit the database's schema, if it does not. */
export function schemaDenial (schema: Schema | undefined, op: Operation): Denial | undefined {
  if (schema === undefined) return undefined
  return firstDenial(op, (data) => {
    if (data.op === 'DEL') return undefined
    const result = schema.read(data.value)
    return 'error' in result ? { reason: 'schema-mismatch', detail: result.error.message, cause: result.error } : undefined
  })
}

interface Granted {
  effect?: AclEffect
  session?: Delegation
  revokedDevice?: string
  actor: string
  rotation?: true
  shares?: CarriedShare[]
  chain?: CarriedChain
}
type Outcome = Granted | Denial
type AclRule<A extends AclOperation> = (ctx: RuleContext, c: Candidate, acl: A, state: AclState) => Promise<Outcome>
type AclRules = { [K in AclOperation['action']]: AclRule<Extract<AclOperation, { action: K }>> }

/** Shares of epoch keys for `to` alone, of epochs that exist in the past (`current`: exactly the current ones). */
function checkShares (ctx: RuleContext, keys: readonly EpochShare[], to: readonly string[] | undefined, state: AclState, past: AclSet, current: boolean): CarriedShare[] | Denial {
  // Members, and the device keys they delegated to and still stand by.
  const members = [...membersOf(state), ...memberDevices(state)]
  const out: CarriedShare[] = []
  for (const { epoch, share } of keys) {
    const recipients = recipientsOf(share)
    if (typeof recipients === 'string') return invalid(recipients)
    if (to !== undefined ? !sameDids(recipients, to) : recipients.some((d) => !members.includes(d))) {
      return invalid(`a key share is wrapped for ${recipients.join(', ')}, ${to !== undefined ? `not for ${to.join(', ')}` : 'not all of them members'}`)
    }
    if (epoch !== GENESIS_EPOCH && !(past.ops.includes(epoch) && ctx.aclOp(epoch)?.rotation === true)) return invalid(`a key share names epoch ${epoch}, which is not in its past`)
    out.push({ epoch, to: recipients, share, label: epoch })
  }
  if (current && !sameDids([...new Set(out.map((k) => k.epoch))].sort(), state.epochs)) {
    return invalid(`a grant in a private database carries the keys of the current epochs (${state.epochs.join(', ')}) for its new member`)
  }
  return out
}

/** A new epoch key: wrapped for exactly `members` (a wallet member's live keys in its place), and chained to each current epoch. */
function checkRekey (c: Candidate, rekey: Rekey | undefined, remaining: readonly string[], state: AclState): Granted | Denial {
  if (rekey === undefined) return invalid('a revocation in a private database starts a new key epoch: it must carry the new key (rekey)')
  const recipients = recipientsOf(rekey.share)
  if (typeof recipients === 'string') return invalid(recipients)
  // Sessions expired at the rotation's own signed time get nothing: the same on every replica.
  const { required, optional } = keyRecipients(state, remaining, c.op.kind === 'acl' ? c.op.acl.at : c.time)
  const missing = required.filter((did) => !recipients.includes(did))
  const extra = recipients.filter((did) => !required.includes(did) && !optional.has(did))
  if (missing.length > 0 || extra.length > 0) {
    return invalid(`the new key must be wrapped for exactly the members that remain (${required.length}), and may be for a wallet member's live session keys; it is wrapped for ${recipients.length}: ${missing.length} missing, ${extra.length} not allowed`)
  }
  if (rekey.chain.length !== state.epochs.length) return invalid(`the new key must seal the keys of the ${state.epochs.length} epoch(s) it follows`)
  return {
    actor: c.did,
    rotation: true,
    shares: [{ epoch: c.hash, to: recipients, share: rekey.share, label: `next:${state.epochs.join(' ')}` }],
    chain: { follows: state.epochs, links: rekey.chain }
  }
}

/** Grant, revoke or cancel an invite: admins only; the admin role is the founders' to move. */
const adminChange: AclRule<Extract<AclOperation, { action: 'grant' | 'revoke' | 'cancel-invite' }>> = async (ctx, c, acl, state) => {
  if (!state.admins.has(c.did)) return { reason: 'not-an-admin', detail: `only an admin may ${acl.action} (the signer is not an admin here)` }
  if (acl.action === 'cancel-invite') return { effect: { type: 'cancel-invite', id: acl.id }, actor: c.did }
  if (acl.role === 'admin' && !ctx.fold.isGenesisAdmin(c.did)) {
    return { reason: 'not-an-admin', detail: `only a founding admin (named when the database was created) may ${acl.action} the admin role` }
  }
  if (acl.action === 'revoke' && acl.role === 'admin' && ctx.fold.isGenesisAdmin(acl.did)) {
    return { reason: 'invalid-operation', detail: `${acl.did} is an admin named when the database was created; it cannot be revoked` }
  }
  const effect = { type: acl.action, role: acl.role, did: acl.did }
  if (ctx.rules.private !== true) {
    if (acl.role === 'reader') return invalid('readers are for private databases; anyone can read this one')
    if ((acl.action === 'grant' && acl.keys !== undefined) || (acl.action === 'revoke' && acl.rekey !== undefined)) return invalid('key shares are for private databases')
    return { effect, actor: c.did }
  }
  if (acl.did === '*') return invalid('a private database names its members; "*" cannot hold a key')
  if (acl.action === 'revoke') {
    const rekeyed = checkRekey(c, acl.rekey, membersWithout(state, acl.role, acl.did), state)
    return 'reason' in rekeyed ? rekeyed : { ...rekeyed, effect }
  }
  // A wallet member holds no key itself: its sessions are handed the keys once they register (an admin's node shares them).
  if (!holdsKeys(acl.did)) return acl.keys === undefined ? { effect, actor: c.did } : invalid(`${acl.did} holds no key agreement key: a grant of it carries no keys (its sessions are handed them)`)
  if (acl.keys === undefined) return invalid('a grant in a private database carries the current keys for its new member')
  const shares = checkShares(ctx, acl.keys, [acl.did], state, c.pastAcl, true)
  return 'reason' in shares ? shares : { effect, actor: c.did, shares }
}

/**
 * Most delegations from the user itself (first links) one user may hold live in one
 * database, and most keys registered under one of them (rules version 2): a member's own
 * entries stay cheap to judge, and a stolen key fills only its own link's share, never the
 * user's room for a new sign-in.
 */
export const MAX_KEYS_PER_USER = 256
export const MAX_KEYS_PER_LINK = 16

/** Why `user` may not register another key under `delegation`'s first link, if it may not. */
function keyBudgetDenial (state: AclState, user: string, delegation: Delegation): string | undefined {
  const revoked = revokedKeys(state)
  const links = new Set<string>()
  let underLink = 0
  const link = delegation.keys[0]
  for (const held of state.sessions.values()) {
    if (held.issuer !== user || revoked.has(held.audience)) continue
    links.add(held.keys[0] as string)
    if (held.keys[0] === link) underLink++
  }
  if (underLink >= MAX_KEYS_PER_LINK) return `${user} holds ${underLink} registered keys delegated through ${link}, the most one delegation may; revoke one it no longer uses before registering another`
  if (link !== undefined && !links.has(link) && links.size >= MAX_KEYS_PER_USER) return `${user} holds ${links.size} live delegations here, the most one user may; revoke one it no longer uses (revokeDevice) before signing in anew`
  return undefined
}

/** The registered delegation of `user` whose chain passes through `key` (the session of `key` itself first), if any. */
function chainThrough (state: AclState, user: string, key: string): Delegation | undefined {
  const own = state.sessions.get(`${user} ${key}`)
  if (own !== undefined) return own
  for (const held of state.sessions.values()) if (held.issuer === user && held.keys.includes(key)) return held
  return undefined
}

/** Whether `did` holds a role in `state` (a writer of a database anyone may write to, too). */
function isMember (state: AclState, did: string): boolean {
  return state.admins.has(did) || state.writers.has(did) || state.writers.has('*') || state.readers.has(did)
}

/** Key operations: private databases, admins only. */
const keyRule = (c: Candidate, state: AclState, ctx: RuleContext, action: string): Denial | undefined => {
  if (ctx.rules.private !== true) return invalid(`${action} is for private databases`)
  if (!state.admins.has(c.did)) return { reason: 'not-an-admin', detail: `only an admin may ${action === 'share' ? 'share keys' : 'rotate the key'} (the signer is not an admin here)` }
  return undefined
}

/** A delegation's chain, checked; `invalid-delegation` when it is not one. */
async function checkedDelegation (proof: unknown): Promise<Delegation | Denial> {
  try {
    return await verifyDelegation(proof)
  } catch (err) {
    if (!(err instanceof InvalidDelegationError)) throw err
    return { reason: 'invalid-delegation', detail: err.message, cause: err }
  }
}

/** The delegation an entry brings with it: a `session`'s, or a delegated key's redeem's. */
function broughtProof (op: Operation): readonly unknown[] | undefined {
  if (op.kind !== 'acl') return undefined
  return op.acl.action === 'session' || op.acl.action === 'redeem' ? op.acl.proof : undefined
}

/**
 * A delegated entry (signed by a key its DID delegated to) holds only if a delegation from
 * the DID to that key covers this database at the entry's own time, and the DID has not
 * taken the key back in the entry's past. A session entry brings its delegation; any other
 * finds it registered in its past.
 */
async function delegationCheck (ctx: RuleContext, c: Candidate, state: AclState): Promise<Denial | undefined> {
  const proof = broughtProof(c.op)
  if (c.signer === c.did) return proof === undefined ? undefined : invalid('a delegated key registers its own session; this entry is signed by the DID itself')
  const delegation = proof !== undefined ? await checkedDelegation(proof) : state.sessions.get(`${c.did} ${c.signer}`)
  if (delegation === undefined) {
    // As before delegations existed: a key that is not the DID's own, with nothing that says it may speak for it.
    return { reason: 'signer-mismatch', detail: `the entry is signed by ${c.signer}, not by ${c.did}'s own key, and no delegation from ${c.did} to that key is in its past` }
  }
  if ('reason' in delegation) return delegation
  const revokedKey = [c.signer, ...(delegation.keys ?? [])].find((key) => state.revokedDevices.has(`${c.did} ${key}`))
  if (revokedKey !== undefined) return { reason: 'device-revoked', detail: revokedKey === c.signer ? `${c.did} took back the key ${c.signer} in this entry's past` : `${c.did} took back the key ${revokedKey}, which ${c.signer}'s delegation passes through, in this entry's past` }
  const at = c.op.kind === 'acl' ? c.op.acl.at : c.op.at
  if (at === undefined) return { reason: 'invalid-delegation', detail: 'a delegated entry carries its time (at), to be judged against its delegation' }
  return delegationDenial(delegation, { user: c.did, signer: c.signer, address: ctx.address, at })
}

const ACL_RULES: AclRules = {
  /** Register a delegated key: its delegation was checked by `delegationCheck`; its user must be allowed to write. */
  session: async (ctx, c, acl, state) => {
    // A reader of a private database registers its device too: that is how the device is handed the keys.
    const reader = ctx.rules.private === true && state.readers.has(c.did)
    if (!reader && !state.admins.has(c.did) && !state.writers.has('*') && !state.writers.has(c.did)) return { reason: 'not-a-writer', detail: `${c.did} may not write here, so it has no key to delegate to` }
    const delegation = await checkedDelegation(acl.proof)
    if ('reason' in delegation) return delegation
    if ((ctx.rules.version ?? 1) >= 2 && !state.sessions.has(`${c.did} ${c.signer}`)) {
      const full = keyBudgetDenial(state, c.did, delegation)
      if (full !== undefined) return invalid(full)
    }
    return { actor: c.did, session: delegation }
  },
  /**
   * A user takes back one of its keys: on its own authority, in any database. In a private
   * database with an ACL it starts a new epoch, as any revocation does: the key was handed the old ones.
   */
  'revoke-device': async (ctx, c, acl, state) => {
    const revokedDevice = `${c.did} ${acl.did}`
    if ((ctx.rules.version ?? 1) < 2 && !isMember(state, c.did)) {
      // Databases made before rules versions took anyone's: kept, so what old replicas accepted
      // stays accepted, but it only takes back its author's own key; it starts no epoch.
      return { actor: c.did, revokedDevice }
    }
    if (!isMember(state, c.did)) return { reason: 'not-a-member', detail: `${c.did} holds no role here, so it has no key here to take back` }
    if ((ctx.rules.version ?? 1) >= 2) {
      // The key registered a session, or a registered session's delegation passes through it (a device that only delegates onward).
      const revoked = chainThrough(state, c.did, acl.did)
      if (revoked === undefined) return invalid(`${acl.did} is not a key ${c.did} registered here, nor one a registered key's delegation passes through`)
      if (state.revokedDevices.has(revokedDevice)) return invalid(`${c.did} took back ${acl.did} already`)
      if (acl.rekey !== undefined && !(state.admins.has(c.did) && ctx.rules.private === true && ctx.rules.mutable)) return invalid('only admins start key epochs: a device revocation carries no key (an admin\'s node rotates the key once it sees it)')
      // A delegated key takes back only keys delegated before it (or itself): a stolen key
      // cannot lock its user out, who delegates a newer key (or signs with its own) and revokes the stolen one.
      if (c.signer !== c.did && acl.did !== c.signer) {
        const own = state.sessions.get(`${c.did} ${c.signer}`)
        // A key may also take back the keys it delegated onward.
        const below = revoked.keys.includes(c.signer) && revoked.keys.indexOf(c.signer) < revoked.keys.indexOf(acl.did)
        if (own === undefined || (!below && !(revoked.delegatedAt < own.delegatedAt))) {
          return { reason: 'not-an-admin', detail: `a delegated key may take back only keys its user delegated before it; ${acl.did} is not older than ${c.signer} (sign with ${c.did}'s own key, or a newer delegation)` }
        }
      }
      if (acl.rekey === undefined) return { actor: c.did, revokedDevice }
      // An admin revoking its own device starts the new epoch in the same entry (the key it takes back holds none of it).
      const rotated = checkRekey(c, acl.rekey, membersOf(state), { ...state, revokedDevices: new Set([...state.revokedDevices, revokedDevice]) })
      return 'reason' in rotated ? rotated : { ...rotated, revokedDevice }
    }
    // Rules version 1 (databases made before version 2) keep their rule: the user rotates the key itself.
    // A fixed set of members has one key, in its policy block: nothing to rotate.
    if (ctx.rules.private !== true || !ctx.rules.mutable) {
      if (acl.rekey !== undefined) return invalid(ctx.rules.private === true ? 'a private database with a fixed set of members has one key; a revocation cannot rotate it' : 'key shares are for private databases')
      return { actor: c.did, revokedDevice }
    }
    const rekeyed = checkRekey(c, acl.rekey, membersOf(state), { ...state, revokedDevices: new Set([...state.revokedDevices, revokedDevice]) })
    return 'reason' in rekeyed ? rekeyed : { ...rekeyed, revokedDevice }
  },
  grant: adminChange,
  revoke: adminChange,
  'cancel-invite': adminChange,
  'rotate-key': async (ctx, c, acl, state) => keyRule(c, state, ctx, 'rotate-key') ?? checkRekey(c, acl.rekey, membersOf(state), state),
  share: async (ctx, c, acl, state) => {
    const denied = keyRule(c, state, ctx, 'share')
    if (denied !== undefined) return denied
    const shares = checkShares(ctx, acl.keys, undefined, state, c.pastAcl, false)
    return 'reason' in shares ? shares : { actor: c.did, shares }
  },
  /** Join with an invite: checked at the entry's own signed time, against the issuer's role in its past. */
  redeem: async (ctx, c, acl, state) => {
    let claims: Awaited<ReturnType<typeof verifyInvite>>
    try {
      claims = await verifyInvite(acl.token, { address: ctx.address, audience: c.did, at: acl.at })
    } catch (err) {
      return { reason: (err as { reason?: RejectionReason }).reason ?? 'invalid-invite', detail: (err as Error).message, cause: err }
    }
    if (!state.admins.has(claims.issuer)) return { reason: 'invalid-invite', detail: `the invite's issuer ${claims.issuer} is not an admin of this database` }
    if (claims.role === 'admin' && !ctx.fold.isGenesisAdmin(claims.issuer)) {
      return { reason: 'invalid-invite', detail: 'only a founding admin may invite an admin' }
    }
    if (state.cancelledInvites.has(claims.id)) return { reason: 'invite-cancelled', detail: `invite ${claims.id} was cancelled by an admin` }
    if (state.redeemedInvites.has(claims.id)) return { reason: 'invite-used', detail: `invite ${claims.id} was already redeemed; an invite is good once` }
    const issued = issuedAt(claims)
    const revokedAt = state.revokedAt.get(c.did)
    if ((ctx.rules.version ?? 1) >= 2 && revokedAt !== undefined && voids(revokedAt, issued, claims.issuedExactly)) return { reason: 'invite-revoked', detail: `${c.did} was revoked at ${new Date(revokedAt).toISOString()}, after invite ${claims.id} was issued; a revocation voids the invites issued before it` }
    const effect = { type: 'grant' as const, role: claims.role, did: c.did, invite: claims.id, issued, ...(claims.issuedExactly === true ? { exactly: true } : {}) }
    // A delegated key's redeem registers the key as well (`delegationCheck` checked its chain),
    // within the same budget as a `session`.
    const delegation = acl.proof === undefined ? undefined : await checkedDelegation(acl.proof) as Delegation
    if (delegation !== undefined && (ctx.rules.version ?? 1) >= 2 && !state.sessions.has(`${c.did} ${c.signer}`)) {
      const full = keyBudgetDenial(state, c.did, delegation)
      if (full !== undefined) return invalid(full)
    }
    const session = delegation === undefined ? {} : { session: delegation }
    if (ctx.rules.private !== true) {
      if (claims.role === 'reader' || claims.keys !== undefined) return { reason: 'invalid-invite', detail: 'readers and key shares are for private databases' }
      return { effect, actor: claims.issuer, ...session }
    }
    // Wrapped for the invitee, or for the key that redeems for it (a wallet's session, which
    // holds the keys for its user): judged on every key the invite carries, seen or not.
    const all = claims.keys ?? []
    const forSigner = c.signer !== c.did && all.length > 0 && all.every((k) => sameDids(recipientsOfShare(k.share), [c.signer]))
    if (!holdsKeys(c.did) && all.length > 0 && !forSigner) return { reason: 'invalid-invite', detail: `${c.did} holds no key agreement key: an invite for it carries keys for the session that redeems it, and this is another key` }
    // Keys of epochs the redeemer had not seen yet are left for an admin to share again.
    const known = all.filter((k) => k.epoch === GENESIS_EPOCH || c.pastAcl.ops.includes(k.epoch))
    const shares = known.length === 0 ? [] : checkShares(ctx, known, [forSigner ? c.signer : c.did], state, c.pastAcl, false)
    if ('reason' in shares) return { reason: 'invalid-invite', detail: shares.detail }
    return { effect, actor: claims.issuer, shares, ...session }
  },
  /** Move to another schema: founding admins only, and only to a schema didbase can check. */
  'set-schema': async (ctx, c, acl) => {
    if (!ctx.fold.isGenesisAdmin(c.did)) return { reason: 'not-an-admin', detail: 'only a founding admin may change the schema' }
    try {
      await ctx.schemas.get(acl.schema.toString())
    } catch (err) {
      if ((err as Error).name !== 'InvalidSchemaError') throw err
      return { reason: 'invalid-operation', detail: `schema ${acl.schema} is not a schema didbase can check: ${(err as Error).message}` }
    }
    return { effect: { type: 'schema', cid: acl.schema.toString() }, actor: c.did }
  }
}

/** The recipients of a share, or none when it is not one (checkShares says why). */
function recipientsOfShare (share: unknown): string[] {
  const recipients = recipientsOf(share)
  return typeof recipients === 'string' ? [] : recipients
}

/** When an invite was issued, as far as it says: one without `iat` counts as issued at its start, or at 0. */
function issuedAt (claims: { issuedAt?: number, notBefore?: number }): number {
  return claims.issuedAt ?? claims.notBefore ?? 0
}

/** The verdict on `c` against the access operations in its past. */
export async function applyRules (ctx: RuleContext, c: Candidate): Promise<Facts | Denial> {
  const pastAcl = c.pastAcl
  const state = ctx.fold.stateOf(pastAcl)
  const base = { time: c.time, did: c.did, ...(ctx.rules.ownership ? { parents: c.parents, nextCount: c.nextCount } : {}) }
  const undelegated = await delegationCheck(ctx, c, state)
  if (undelegated !== undefined) return undelegated
  if (c.op.kind === 'acl') {
    const acl = c.op.acl
    const ownAuthority = acl.action === 'session' || acl.action === 'revoke-device'
    if (!ctx.rules.mutable && !ownAuthority) return { reason: 'invalid-operation', detail: 'this database has a fixed set of writers; its access cannot change' }
    const rule = ACL_RULES[acl.action] as AclRule<AclOperation>
    const outcome = await rule(ctx, c, acl, state)
    if ('reason' in outcome) return outcome
    const keys: DeliveredKey[] = (outcome.shares ?? []).map(({ epoch, to }) => ({ epoch, to }))
    const at = acl.at
    const aclOp: AclOpFacts = {
      hash: c.hash,
      actor: outcome.actor,
      at,
      past: pastAcl,
      ...(outcome.effect !== undefined ? { effect: outcome.effect } : {}),
      ...(outcome.rotation === true ? { rotation: true } : {}),
      ...(keys.length > 0 ? { keys } : {}),
      ...(outcome.session !== undefined ? { session: outcome.session } : {}),
      ...(outcome.revokedDevice !== undefined ? { revokedDevice: outcome.revokedDevice } : {})
    }
    const carried = keys.length > 0 || outcome.chain !== undefined ? { carried: { shares: outcome.shares ?? [], ...(outcome.chain ? { chain: outcome.chain } : {}) } } : {}
    return { ...base, acl: ctx.sets.with(pastAcl, c.hash), aclOp, ...carried }
  }
  const isAdmin = state.admins.has(c.did)
  if (!isAdmin && !state.writers.has('*') && !state.writers.has(c.did)) {
    return { reason: 'not-a-writer', detail: 'the DID is not a writer of this database' }
  }
  const schema = state.schema === undefined ? ctx.rules.schema : await ctx.schemas.get(state.schema)
  const mismatch = ctx.rules.private === true ? sealedDenial(c.op, state.epochs) : schemaDenial(schema, c.op)
  if (mismatch !== undefined) return mismatch
  if (!ctx.rules.ownership) return { ...base, acl: pastAcl }
  // A batch writes each record as if alone: against the entry's past, by the same DID, so
  // an operation never makes another of the same entry the owner's or a stranger's.
  const keys = [...new Set(dataOperationsOf(c.op).flatMap((op) => (op.key === null ? [] : [op.key])))]
  const records: Array<{ key: string, reached: Creation[] }> = []
  for (const key of keys) {
    const reached = ctx.ownership.creationsInPast(c.parents, key)
    const owners = new Set(reached.map((r) => r.did))
    if (!isAdmin && owners.size > 0 && !(owners.size === 1 && owners.has(c.did))) {
      const who = [...owners].join(' and ')
      return { reason: 'not-the-owner', detail: `record ${JSON.stringify(key)} belongs to ${who}${owners.size > 1 ? ' (created concurrently; only an admin may change it)' : ''}` }
    }
    records.push({ key, reached })
  }
  return { ...base, acl: pastAcl, ...(records.length > 0 ? { records } : {}) }
}
