/**
 * The policy block: what a database's address commits to (writers, admins, ownership,
 * schema), and how it is checked when read (`loadPolicy` in controller/fetch.ts fetches it).
 */
import { CID } from 'multiformats/cid'
import { Did } from '../did/did.js'
import { InvalidPolicyError } from '../errors.js'
import { type KeyShare, recipientsOf, sameDids } from './share-shape.js'

export type { KeyShare } from './share-shape.js'

export const WRITERS_TYPE = 'didbase-writers'
export const ACL_TYPE = 'didbase-acl'
export const ACCESS_TYPES: readonly string[] = [WRITERS_TYPE, ACL_TYPE]
export const ANYONE = '*'
const MAX_DIDS = 10_000

/** The policy block, as stored. `ownership` is left out when false, so older addresses stay valid. */
export interface PolicyBlock {
  type: typeof WRITERS_TYPE | typeof ACL_TYPE
  /** Sorted, unique DIDs; `['*']` for anyone. */
  writers: string[]
  /** Sorted, unique DIDs (ACL policies only). */
  admins?: string[]
  ownership?: true
  /** CID of the schema document every PUT and ADD value must match. */
  schema?: CID
  /**
   * A private database: values and record keys are sealed under the genesis epoch key,
   * shared in this block with every member it starts with (writers, readers and, with an
   * ACL, admins). Left out when not private, so older addresses stay valid.
   */
  private?: PrivateField
  /**
   * Which version of the rules replicas judge it by (`RULES_VERSION`). Left out by databases
   * made before version 2, which keep the rules they were made with (docs/security.md).
   */
  rules?: typeof RULES_VERSION
}

/**
 * The rules this version writes into new policies. Version 2: only admins start key epochs,
 * a device revocation names a key its user registered here (a delegated key revokes only
 * keys delegated before it), and every entry's payload has a size bound.
 */
export const RULES_VERSION = 2

export interface PrivateField {
  /** Sorted, unique DIDs that may read but not write (with an ACL: the readers it starts with). */
  readers: string[]
  /** The genesis epoch key as a did-jwt JWE to every member's X25519 key (`private/epoch-keys.ts`). */
  share: KeyShare
}

/** Everyone a policy names at creation, sorted: who the genesis key share must be wrapped for. */
export function genesisMembers (policy: Pick<PolicyBlock, 'writers' | 'admins'>, readers: readonly string[]): string[] {
  return [...new Set([...(policy.admins ?? []), ...policy.writers, ...readers])].sort()
}

export function normalise (dids: unknown, what: string, allowAnyone: boolean, allowEmpty: boolean): string[] {
  if (!Array.isArray(dids) || (dids.length === 0 && !allowEmpty)) {
    throw new InvalidPolicyError(`${what} must be a non-empty list of DIDs${allowAnyone ? ' or "*"' : ''}`)
  }
  if (dids.length > MAX_DIDS) throw new InvalidPolicyError(`at most ${MAX_DIDS} ${what}`)
  const canonical = (dids as string[]).map((d) => (d === ANYONE && allowAnyone ? d : Did.parse(d)))
  const set = [...new Set(canonical)].sort()
  return set.includes(ANYONE) ? [ANYONE] : set
}

function schemaField (value: unknown): { schema?: CID } {
  if (value === undefined) return {}
  const cid = CID.asCID(value)
  if (cid === null) throw new InvalidPolicyError('the policy\'s schema is not a CID')
  return { schema: cid }
}

function rulesField (value: unknown): { rules?: typeof RULES_VERSION } {
  if (value === undefined) return {}
  if (value === RULES_VERSION) return { rules: RULES_VERSION }
  throw new InvalidPolicyError(`the policy follows rules version ${JSON.stringify(value)}; this version of didbase knows versions 1 and ${RULES_VERSION} (upgrade @didbase/sdk)`)
}

function privateField (value: unknown, policy: Pick<PolicyBlock, 'writers' | 'admins'>): { private?: PrivateField } {
  if (value === undefined) return {}
  const v = value as Partial<PrivateField> | null
  if (policy.writers.includes(ANYONE)) throw new InvalidPolicyError('a private database names its writers; "*" cannot hold a key')
  const readers = normalise(v?.readers ?? [], 'readers', false, true)
  const recipients = recipientsOf(v?.share)
  if (typeof recipients === 'string') throw new InvalidPolicyError(`the private database's key share: ${recipients}`)
  if (!sameDids(recipients, genesisMembers(policy, readers))) {
    throw new InvalidPolicyError('the private database\'s key share is not wrapped for exactly the members it names')
  }
  return { private: { readers, share: v?.share as KeyShare } }
}

export function policyBlock (value: unknown, where: string): PolicyBlock {
  const p = value as Partial<PolicyBlock> | null
  if (p?.type === WRITERS_TYPE) {
    const writers = normalise(p.writers, 'writers', true, false)
    return { type: WRITERS_TYPE, writers, ...(p.ownership === true ? { ownership: true } : {}), ...schemaField(p.schema), ...privateField(p.private, { writers }), ...rulesField(p.rules) }
  }
  if (p?.type === ACL_TYPE) {
    const roles = { admins: normalise(p.admins, 'admins', false, false), writers: normalise(p.writers, 'writers', true, true) }
    return {
      type: ACL_TYPE,
      ...roles,
      ...(p.ownership === true ? { ownership: true } : {}),
      ...schemaField(p.schema),
      ...privateField(p.private, roles),
      ...rulesField(p.rules)
    }
  }
  throw new InvalidPolicyError(`${where} is not a didbase policy`)
}
