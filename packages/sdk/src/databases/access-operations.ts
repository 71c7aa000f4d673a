/**
 * The access half of a database handle: who holds which role in this replica's causal
 * present, and the ACL entries (grants, revocations, invites, schema moves) it writes.
 */
import {
  type AccessPolicy,
  AccessDeniedError,
  type AclState,
  aclPayload,
  createInvite,
  decodeInvite,
  Did,
  type DidIdentity,
  InvalidInviteError,
  isRole,
  type Role
} from '@didbase/access'
import type { Schema } from '@didbase/schemas'
import { type AbortOptions, abortable } from '../abort.js'
import { InvalidValueError } from '../errors.js'

/** Who holds which role, as seen by a new write from this replica. */
export interface Roles {
  admins: string[]
  /** Writers besides the admins (admins may always write); `['*']` when anyone may. */
  writers: string[]
  /** Private databases: DIDs that may read but not write. */
  readers?: string[]
}

export interface InviteOptions {
  /** Default `writer`. */
  role?: Role
  /** How long the invite stays valid, in ms. Default 7 days. */
  expiresIn?: number
  /** When it expires, in ms since the epoch (instead of `expiresIn`). */
  expiresAt?: number
  /** Not valid before, in ms since the epoch. */
  notBefore?: number
}

export interface AccessOperationsInit {
  identity: DidIdentity
  address: string
  policy: AccessPolicy
  heads: () => Promise<string[]>
  /** Sign and append an ACL payload through the write gate. */
  append: (payload: ReturnType<typeof aclPayload>, options?: AbortOptions) => Promise<string>
  assertOpen: () => void
}

export class AccessOperations {
  readonly #identity: DidIdentity
  readonly #did: string
  readonly #address: string
  readonly #policy: AccessPolicy
  readonly #heads: () => Promise<string[]>
  readonly #append: (payload: ReturnType<typeof aclPayload>, options?: AbortOptions) => Promise<string>
  readonly #assertOpen: () => void

  constructor (init: AccessOperationsInit) {
    this.#identity = init.identity
    this.#did = init.identity.did
    this.#address = init.address
    this.#policy = init.policy
    this.#heads = init.heads
    this.#append = init.append
    this.#assertOpen = init.assertOpen
  }

  async currentSchema (): Promise<Schema | undefined> {
    return this.#policy.schemaAt(await this.#heads())
  }

  async setSchema (schema: Schema, options?: AbortOptions): Promise<string> {
    this.#assertOpen()
    const cid = await abortable(this.#policy.storeSchema(schema), options)
    return this.#acl({ action: 'set-schema', schema: cid, at: Date.now() }, options)
  }

  async roles (): Promise<Roles> {
    const state = await this.#state()
    return { admins: [...state.admins].sort(), writers: [...state.writers].sort() }
  }

  async canWrite (did: string = this.#did): Promise<boolean> {
    const state = await this.#state()
    return state.admins.has(did) || state.writers.has('*') || state.writers.has(did)
  }

  async isAdmin (did: string = this.#did): Promise<boolean> {
    return (await this.#state()).admins.has(did)
  }

  async change (action: 'grant' | 'revoke', role: Role, did: string, options?: AbortOptions): Promise<string> {
    if (!isRole(role)) throw new InvalidValueError(`unknown role ${JSON.stringify(role)}; use "admin" or "writer"`)
    if (!(did === '*' && role === 'writer')) Did.parse(did)
    return this.#acl({ action, role, did, at: Date.now() }, options)
  }

  async invite (did: string, options: InviteOptions): Promise<string> {
    this.#assertOpen()
    Did.parse(did)
    if (!this.#policy.mutable) throw new AccessDeniedError(this.#did, this.#address, 'cannot invite: this database has a fixed set of writers', 'invalid-operation')
    if (!(await this.isAdmin())) throw new AccessDeniedError(this.#did, this.#address, 'is not an admin of this database, so cannot invite', 'not-an-admin')
    if (options.role === 'admin' && !this.#policy.genesis.admins.includes(this.#did)) {
      throw new AccessDeniedError(this.#did, this.#address, 'is not a founding admin, so cannot invite an admin', 'not-an-admin')
    }
    return createInvite(this.#identity, { address: this.#address, audience: did, ...options })
  }

  async cancelInvite (tokenOrId: string, options?: AbortOptions): Promise<string> {
    const id = tokenOrId.includes('.') ? decodeInvite(tokenOrId).id : tokenOrId
    return this.#acl({ action: 'cancel-invite', id, at: Date.now() }, options)
  }

  async redeem (token: string, options?: AbortOptions): Promise<string> {
    const claims = decodeInvite(token)
    if (claims.address !== this.#address) throw new InvalidInviteError(`the invite is for ${claims.address}, not ${this.#address}`)
    return this.#acl({ action: 'redeem', token, at: Date.now() }, options)
  }

  async #acl (acl: Parameters<typeof aclPayload>[0], options?: AbortOptions): Promise<string> {
    return this.#append(aclPayload(acl), options)
  }

  async #state (): Promise<AclState> {
    return this.#policy.state(await this.#heads())
  }
}
