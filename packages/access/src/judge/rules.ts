/**
 * The policy itself: may a candidate entry do what it asks, given the access operations in
 * its causal past? One rule per access action, then the writer, schema and ownership
 * checks for data. Every input is the entry and its past, so every replica agrees.
 */
import type { Schema } from '@didbase/schemas'
import type { AclEffect, AclFold, AclOpFacts, AclSet, AclSets, AclState, Genesis } from '../policy/acl-state.js'
import type { RejectionReason } from '../errors.js'
import { verifyInvite } from '../invite/invite.js'
import type { AclOperation, Operation } from '../policy/operations.js'
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
}

export interface Denial {
  reason: RejectionReason
  detail: string
  cause?: unknown
}

/** What an accepted entry leaves for the entries that follow it. */
export interface Facts {
  time: number
  did: string
  /** Access operations in the past of this entry, and this entry if it is one. */
  acl: AclSet
  /** Set for access operations. */
  aclOp?: AclOpFacts
  /** Set for data entries on a key, when ownership is on. */
  key?: string
  /** The creations of its record in its past; none when this entry created the record. Dropped once indexed. */
  reached?: Creation[]
  /** Kept when ownership is on: the search for a record's creation walks them. `next` come first. */
  parents?: readonly string[]
  nextCount?: number
}

export interface Candidate {
  hash: string
  did: string
  time: number
  /** `next` then `refs`, without repeats. */
  parents: string[]
  nextCount: number
  op: Operation
}

export interface RuleContext {
  address: string
  rules: JudgeRules
  fold: AclFold
  sets: AclSets
  schemas: SchemaCache
  ownership: OwnershipIndex
}

export function isDenial (value: Facts | Denial): value is Denial {
  return (value as Denial).reason !== undefined
}

/** Why a data operation's value does not fit the database's schema, if it does not. */
export function schemaDenial (schema: Schema | undefined, op: Operation): Denial | undefined {
  if (schema === undefined || op.kind !== 'data' || op.op === 'DEL') return undefined
  const result = schema.read(op.value)
  return 'error' in result ? { reason: 'schema-mismatch', detail: result.error.message, cause: result.error } : undefined
}

type Outcome = { effect: AclEffect, actor: string } | Denial
type AclRule<A extends AclOperation> = (ctx: RuleContext, c: Candidate, acl: A, state: AclState) => Promise<Outcome>
type AclRules = { [K in AclOperation['action']]: AclRule<Extract<AclOperation, { action: K }>> }

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
  return { effect: { type: acl.action, role: acl.role, did: acl.did }, actor: c.did }
}

const ACL_RULES: AclRules = {
  grant: adminChange,
  revoke: adminChange,
  'cancel-invite': adminChange,
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
    return { effect: { type: 'grant', role: claims.role, did: c.did, invite: claims.id }, actor: claims.issuer }
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

/** The verdict on `c` against the access operations `pastAcl` in its past. */
export async function applyRules (ctx: RuleContext, c: Candidate, pastAcl: AclSet): Promise<Facts | Denial> {
  const state = ctx.fold.stateOf(pastAcl)
  const base = { time: c.time, did: c.did, ...(ctx.rules.ownership ? { parents: c.parents, nextCount: c.nextCount } : {}) }
  if (c.op.kind === 'acl') {
    const acl = c.op.acl
    if (!ctx.rules.mutable) return { reason: 'invalid-operation', detail: 'this database has a fixed set of writers; its access cannot change' }
    const rule = ACL_RULES[acl.action] as AclRule<AclOperation>
    const outcome = await rule(ctx, c, acl, state)
    if ('reason' in outcome) return outcome
    const aclOp = { hash: c.hash, effect: outcome.effect, actor: outcome.actor, at: acl.at, past: pastAcl }
    return { ...base, acl: ctx.sets.with(pastAcl, c.hash), aclOp }
  }
  const isAdmin = state.admins.has(c.did)
  if (!isAdmin && !state.writers.has('*') && !state.writers.has(c.did)) {
    return { reason: 'not-a-writer', detail: 'the DID is not a writer of this database' }
  }
  const schema = state.schema === undefined ? ctx.rules.schema : await ctx.schemas.get(state.schema)
  const mismatch = schemaDenial(schema, c.op)
  if (mismatch !== undefined) return mismatch
  if (!ctx.rules.ownership || c.op.key === null) return { ...base, acl: pastAcl }
  const reached = ctx.ownership.creationsInPast(c.parents, c.op.key)
  const owners = new Set(reached.map((r) => r.did))
  if (!isAdmin && owners.size > 0 && !(owners.size === 1 && owners.has(c.did))) {
    const who = [...owners].join(' and ')
    return { reason: 'not-the-owner', detail: `record ${JSON.stringify(c.op.key)} belongs to ${who}${owners.size > 1 ? ' (created concurrently; only an admin may change it)' : ''}` }
  }
  return { ...base, acl: pastAcl, key: c.op.key, reached }
}
