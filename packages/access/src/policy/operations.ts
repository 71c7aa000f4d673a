/**
 * What an oplog entry asks for, read from its payload. Data operations are OrbitDB's own
 * (`PUT`/`DEL` for key-value and documents, `ADD` for event logs); access operations are
 * didbase's, appended to the same log so that every entry's causal past holds the policy
 * changes its writer had seen.
 */
import * as dagCbor from '@ipld/dag-cbor'
import { CID } from 'multiformats/cid'
import { Did } from '../did/did.js'
import { type EpochShare, epochSharesOf, type Rekey, rekeyOf } from './share-shape.js'
import { MAX_CHAIN, type ProofLink } from '../delegation/link.js'

/** Readers exist in private databases only: they read and cannot write. Writers and admins read too. */
export const ROLES = ['admin', 'writer', 'reader'] as const
export type Role = typeof ROLES[number]
export const ACL_OP = 'ACL'

export type AclOperation =
  /**
   * Give `did` the role. `did` may be `'*'` for the writer role (anyone may write). In a
   * private database it carries the current epoch keys, wrapped for `did`.
   */
  | { action: 'grant', role: Role, did: string, at: number, keys?: EpochShare[] }
  /**
   * Take the role from `did`: removes every grant of it the revoker had seen. In a private
   * database it starts a new key epoch: the new key, wrapped for every member that remains.
   */
  | { action: 'revoke', role: Role, did: string, at: number, rekey?: Rekey }
  /** Start a new key epoch without a revocation (private databases, admins only). */
  | { action: 'rotate-key', rekey: Rekey, at: number }
  /** Hand epoch keys to members that lack them (a member granted concurrently with a rotation, say). */
  | { action: 'share', keys: EpochShare[], at: number }
  /**
   * The first entry a delegated key writes to a database: the delegation (a chain, the
   * user's link first) that lets it write for the entry's DID. Signed by that key.
   */
  | { action: 'session', proof: ProofLink[], at: number }
  /**
   * A user takes back a key it delegated to: entries by that key whose past holds this are
   * refused. In a private database it carries a new epoch key, as a role revocation does.
   */
  | { action: 'revoke-device', did: string, at: number, rekey?: Rekey }
  /**
   * Join with an invite issued by an admin; the signer must be the invite's audience. A
   * delegated key (a wallet's session, a device) that redeems for its user brings its
   * delegation in `proof`, as a `session` does: the redeem registers the key too, since a
   * user without a role yet could not register one before.
   */
  | { action: 'redeem', token: string, at: number, proof?: ProofLink[] }
  /** Withdraw an invite that has not been redeemed yet. */
  | { action: 'cancel-invite', id: string, at: number }
  /** Move the database to another schema (founding admins only): entries that follow it are checked against it. */
  | { action: 'set-schema', schema: CID, at: number }

/** `at`: the writer's time in ms; delegated entries carry it, to be judged against their delegation. */
export interface DataOperation { kind: 'data', op: 'PUT' | 'DEL' | 'ADD', key: string | null, value: unknown, at?: number }

export type Operation =
  | DataOperation
  /**
   * Several data operations in one signed entry, applied in their order; each is judged as
   * if it came alone, and one refused refuses the entry. `at` is the entry's, for all of them.
   */
  | { kind: 'batch', ops: DataOperation[], at?: number }
  | { kind: 'acl', acl: AclOperation }

export const BATCH_OP = 'BATCH'
/** Most operations one entry may carry: every replica refuses an entry with more. */
export const MAX_BATCH_OPS = 1000
/** Most bytes the operations of one entry may take, dag-cbor encoded: every replica refuses more. */
export const MAX_BATCH_BYTES = 1 << 20

export function isRole (value: unknown): value is Role {
  return value === 'admin' || value === 'writer' || value === 'reader'
}

/** An invite to a private database carries key shares, so it is larger than a plain one. */
const MAX_TOKEN = 65_536

/** A value for an error message; never throws (payloads may hold BigInts). */
function shown (value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value.slice(0, 80)) : typeof value
}

/** A delegation chain as an entry carries it, or why it is not one. */
function proofOf (value: unknown): ProofLink[] | string {
  // Chains longer than MAX_CHAIN parse, so that they are refused as delegations, saying why.
  if (!Array.isArray(value) || value.length === 0 || value.length > 4 * MAX_CHAIN) return 'a list of links'
  if (value.some((l) => typeof l !== 'string' && (typeof l !== 'object' || l === null || Array.isArray(l)))) return 'a delegation link is a JWS string or a CACAO'
  return value as ProofLink[]
}

function aclOperation (value: unknown): AclOperation | string {
  if (typeof value !== 'object' || value === null) return 'an access operation must be an object'
  const v = value as Record<string, unknown>
  if (typeof v.at !== 'number' || !Number.isSafeInteger(v.at) || v.at < 0) return 'an access operation needs a time `at` in ms'
  switch (v.action) {
    case 'grant':
    case 'revoke': {
      if (!isRole(v.role)) return `unknown role ${shown(v.role)} (roles: ${ROLES.join(', ')})`
      if (!(v.did === '*' && v.role === 'writer') && (typeof v.did !== 'string' || Did.asDid(v.did) !== v.did)) return `${shown(v.did)} is not a DID this database can verify (did:pkh addresses in lower case)`
      const base = { role: v.role, did: v.did as string, at: v.at }
      if (v.action === 'grant') {
        if (v.keys === undefined) return { action: 'grant', ...base }
        const keys = epochSharesOf(v.keys)
        return typeof keys === 'string' ? keys : { action: 'grant', ...base, keys }
      }
      if (v.rekey === undefined) return { action: 'revoke', ...base }
      const rekey = rekeyOf(v.rekey)
      return typeof rekey === 'string' ? rekey : { action: 'revoke', ...base, rekey }
    }
    case 'rotate-key': {
      const rekey = rekeyOf(v.rekey)
      return typeof rekey === 'string' ? rekey : { action: 'rotate-key', rekey, at: v.at }
    }
    case 'share': {
      const keys = epochSharesOf(v.keys)
      return typeof keys === 'string' ? keys : { action: 'share', keys, at: v.at }
    }
    case 'session': {
      const proof = proofOf(v.proof)
      return typeof proof === 'string' ? `a session names its delegation: ${proof}` : { action: 'session', proof, at: v.at }
    }
    case 'revoke-device':
      if (typeof v.did !== 'string' || !v.did.startsWith('did:key:') || !Did.is(v.did)) return 'revoke-device names the did:key of the device or session'
      if (v.rekey !== undefined) {
        const rekey = rekeyOf(v.rekey)
        return typeof rekey === 'string' ? rekey : { action: 'revoke-device', did: v.did, at: v.at, rekey }
      }
      return { action: 'revoke-device', did: v.did, at: v.at }
    case 'redeem': {
      if (typeof v.token !== 'string' || v.token.length > MAX_TOKEN) return 'a redeem operation needs an invite token'
      if (v.proof === undefined) return { action: 'redeem', token: v.token, at: v.at }
      const proof = proofOf(v.proof)
      return typeof proof === 'string' ? `a redeem by a delegated key names its delegation: ${proof}` : { action: 'redeem', token: v.token, at: v.at, proof }
    }
    case 'cancel-invite':
      if (typeof v.id !== 'string' || v.id.length === 0 || v.id.length > 256) return 'cancel-invite needs an invite id'
      return { action: 'cancel-invite', id: v.id, at: v.at }
    case 'set-schema': {
      const schema = CID.asCID(v.schema)
      if (schema === null) return 'set-schema needs the CID of a schema document'
      return { action: 'set-schema', schema, at: v.at }
    }
    default:
      return `unknown access action ${shown(v.action)}`
  }
}

/** Deepest nesting a stored value may have. */
export const MAX_DEPTH = 128

/**
 * Why `value` is not plain data, if it is not: a map whose prototype is not a plain
 * object's (dag-cbor decodes a `__proto__` key by setting the prototype), or nesting deeper
 * than `MAX_DEPTH`. Replicas refuse such values, so no reader is handed one.
 */
export function notPlainData (value: unknown, depth = 0): string | undefined {
  if (typeof value !== 'object' || value === null || value instanceof Uint8Array || CID.asCID(value) !== null) return undefined
  if (depth >= MAX_DEPTH) return `the value is nested more than ${MAX_DEPTH} deep`
  if (Array.isArray(value)) {
    for (const item of value) {
      const why = notPlainData(item, depth + 1)
      if (why !== undefined) return why
    }
    return undefined
  }
  const proto = Object.getPrototypeOf(value)
  if (proto !== Object.prototype && proto !== null) return 'the value holds an object that is not a plain map (a __proto__ key, or a class instance)'
  for (const key of Object.keys(value)) {
    const why = notPlainData((value as Record<string, unknown>)[key], depth + 1)
    if (why !== undefined) return why
  }
  return undefined
}

/** Read an entry payload. Returns a string saying what is wrong when it is not an operation. */
export function parseOperation (payload: unknown): Operation | string {
  if (typeof payload !== 'object' || payload === null) return 'the payload is not an operation'
  const p = payload as Record<string, unknown>
  if (p.op === ACL_OP) {
    const acl = aclOperation(p.value)
    return typeof acl === 'string' ? acl : { kind: 'acl', acl }
  }
  if (p.op === BATCH_OP) return batchOperation(p)
  if (p.op === 'PUT' || p.op === 'DEL' || p.op === 'ADD') return dataOperation(p)
  return `unknown operation ${shown(p.op)}`
}

function dataOperation (p: Record<string, unknown>): DataOperation | string {
  const op = p.op as DataOperation['op']
  if (op !== 'ADD' && (typeof p.key !== 'string' || p.key.length === 0)) return `${op} needs a non-empty string key`
  const why = notPlainData(p.value)
  if (why !== undefined) return why
  if (p.at !== undefined && (typeof p.at !== 'number' || !Number.isSafeInteger(p.at) || p.at < 0)) return 'an operation\'s time `at` is in ms'
  return { kind: 'data', op, key: op === 'ADD' ? null : p.key as string, value: p.value, ...(p.at !== undefined ? { at: p.at as number } : {}) }
}

function batchOperation (p: Record<string, unknown>): Operation | string {
  const items = p.value
  if (!Array.isArray(items) || items.length === 0) return 'a batch carries a non-empty list of operations'
  if (items.length > MAX_BATCH_OPS) return `a batch carries at most ${MAX_BATCH_OPS} operations, this one ${items.length}`
  if (p.at !== undefined && (typeof p.at !== 'number' || !Number.isSafeInteger(p.at) || p.at < 0)) return 'a batch\'s time `at` is in ms'
  const ops: DataOperation[] = []
  for (const [i, item] of items.entries()) {
    const o = (typeof item === 'object' && item !== null ? item : {}) as Record<string, unknown>
    if (o.op !== 'PUT' && o.op !== 'DEL' && o.op !== 'ADD') return `operation ${i} of the batch: a batch carries PUT, DEL and ADD operations only, not ${shown(o.op)}`
    if (o.at !== undefined) return `operation ${i} of the batch: the batch carries one time, \`at\`, for all its operations`
    const op = dataOperation(o)
    if (typeof op === 'string') return `operation ${i} of the batch: ${op}`
    ops.push(op)
  }
  const bytes = dagCbor.encode(items).byteLength
  if (bytes > MAX_BATCH_BYTES) return `a batch carries at most ${MAX_BATCH_BYTES} bytes of operations, this one ${bytes}`
  return { kind: 'batch', ops, ...(p.at !== undefined ? { at: p.at as number } : {}) }
}

/** A data operation as written to the log, alone or inside a batch. */
/** `at`: the writer's time in ms, when the operation is written alone (a batch carries one for all). */
export interface DataPayload { op: 'PUT' | 'DEL' | 'ADD', key: string | null, value: unknown, at?: number }

/** The payload of a batch: `ops` in their order, one entry. */
export function batchPayload (ops: readonly DataPayload[]): { op: typeof BATCH_OP, key: null, value: DataPayload[] } {
  return { op: BATCH_OP, key: null, value: ops.map(({ op, key, value }) => ({ op, key, value })) }
}

/**
 * The data operations an accepted entry carries, in their order: one, a batch's, or none
 * (access operations). Only for entries a replica accepted: their shape was checked.
 */
export function dataPayloadsOf (payload: unknown): DataPayload[] {
  const p = payload as { op?: unknown, value?: unknown } | null
  if (p?.op === BATCH_OP) return p.value as DataPayload[]
  if (p?.op === 'PUT' || p?.op === 'DEL' || p?.op === 'ADD') return [p as DataPayload]
  return []
}

/** The data operations of a parsed operation, in their order (none for an access operation). */
export function dataOperationsOf (op: Operation): DataOperation[] {
  return op.kind === 'batch' ? op.ops : op.kind === 'data' ? [op] : []
}

/** The payload of an access operation, as written to the log. */
export function aclPayload (acl: AclOperation): { op: typeof ACL_OP, key: null, value: AclOperation } {
  return { op: ACL_OP, key: null, value: acl }
}
