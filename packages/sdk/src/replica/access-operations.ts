/**
 * The access half of a database handle: who holds which role in this replica's causal
 * present, and the ACL entries (grants, revocations, invites, schema moves) it writes.
 */
import {
  AccessDeniedError,
  decodeInvite,
  Did,
  type DidIdentity,
  InvalidInviteError,
  isRole,
  type Role
} from '@didbase/access'
import {
  type AccessPolicy,
  type AclState,
  aclPayload,
  createInvite,
  isDelegated,
  holdsKeys,
  keyExposed,
  keyHolders,
  type Keyring,
  keyRecipients,
  membersOf,
  membersWithout
} from '@didbase/access/internal'
import type { Schema } from '@didbase/schemas'
import { type AbortOptions, abortable } from '../abort.js'
import { InvalidValueError } from '../errors.js'
import type { Writer } from './writer.js'

/** Who holds which role, as seen by a new write from this replica. */
export interface Roles {
  admins: string[]
  /** Writers besides the admins (admins may always write); `['*']` when anyone may. */
  writers: string[]
  /** Private databases: DIDs that may read but not write. */
  readers?: string[]
}

export interface InviteOptions {
  /** Default `writer`; `reader` in private databases. */
  role?: Role
  /** How long the invite stays valid, in ms. Default 7 days. */
  expiresIn?: number
  /** When it expires, in ms since the epoch (instead of `expiresIn`). */
  expiresAt?: number
  /** Not valid before, in ms since the epoch. */
  notBefore?: number
  /**
   * Private databases: the did:key of the session or device that will redeem the invite
   * (the invitee's `didbase.did`), to wrap the keys for it. Required for a wallet user
   * (did:pkh), who holds no key itself; that session then reads as soon as it redeems.
   */
  sessionKey?: string
}

export interface AccessOperationsInit {
  identity: DidIdentity
  address: string
  policy: AccessPolicy
  /** Where ACL entries are written, made for the heads they link to. */
  writer: Writer
  /** Set in a private database: this member's keys, to share and rotate. */
  keyring: Keyring | undefined
}

export class AccessOperations {
  readonly #identity: DidIdentity
  readonly #did: string
  readonly #address: string
  readonly #policy: AccessPolicy
  readonly #writer: Writer
  readonly #keyring: Keyring | undefined

  constructor (init: AccessOperationsInit) {
    this.#identity = init.identity
    this.#did = init.identity.did
    this.#address = init.address
    this.#policy = init.policy
    this.#writer = init.writer
    this.#keyring = init.keyring
  }

  async currentSchema (): Promise<Schema | undefined> {
    return this.#policy.schemaAt(await this.#writer.heads())
  }

  async setSchema (schema: Schema, options?: AbortOptions): Promise<string> {
    this.#writer.assertOpen()
    const cid = await abortable(this.#policy.storeSchema(schema), options)
    return this.#acl({ action: 'set-schema', schema: cid, at: Date.now() }, options)
  }

  async roles (): Promise<Roles> {
    const state = await this.#state()
    const readers = this.#keyring === undefined ? {} : { readers: [...state.readers].sort() }
    return { admins: [...state.admins].sort(), writers: [...state.writers].sort(), ...readers }
  }

  async canWrite (did: string = this.#did): Promise<boolean> {
    const state = await this.#state()
    return state.admins.has(did) || state.writers.has('*') || state.writers.has(did)
  }

  async isAdmin (did: string = this.#did): Promise<boolean> {
    return (await this.#state()).admins.has(did)
  }

  async change (action: 'grant' | 'revoke', role: Role, given: string, options?: AbortOptions): Promise<string> {
    this.#assertRole(role)
    // did:pkh addresses are named in lower case (the form CACAOs are judged in), however given.
    const did = given === '*' ? given : Did.parse(given)
    const ring = this.#keyring
    if (ring !== undefined && did === '*') throw new InvalidValueError('a private database names its members: "*" cannot hold its key')
    if (did === '*' && role !== 'writer') Did.parse(did)
    // A wallet member (did:pkh) holds no key itself: its sessions are handed the keys once they register.
    if (ring === undefined || (action === 'grant' && !holdsKeys(did))) return this.#acl({ action, role, did, at: Date.now() }, options)
    // A grant hands the new member the current keys; a revocation starts a new epoch for everyone else.
    return this.#writer.append(async (heads) => {
      const state = await this.#policy.state(heads)
      if (action === 'grant') return aclPayload({ action, role, did, at: Date.now(), keys: await ring.sharesFor([did], state.epochs) })
      const at = Date.now()
      return aclPayload({ action, role, did, at, rekey: await ring.rekey(this.#wrapFor(state, membersWithout(state, role, did), at), state.epochs) })
    }, options)
  }

  /** Start a new key epoch (private databases, admins): values written from now on are sealed under a key only the current members get. */
  async rotateKey (options?: AbortOptions): Promise<string> {
    const ring = this.#privateRing('rotate its key')
    return this.#writer.append(async (heads) => {
      const state = await this.#policy.state(heads)
      const at = Date.now()
      return aclPayload({ action: 'rotate-key', at, rekey: await ring.rekey(this.#wrapFor(state, membersOf(state), at), state.epochs) })
    }, options)
  }

  /**
   * Members that lack a key of a current epoch (granted concurrently with a rotation, or
   * redeemed an invite issued before one), by epoch. Empty outside private databases.
   */
  async membersLackingKeys (): Promise<Map<string, string[]>> {
    if (this.#keyring === undefined) return new Map()
    return lackingKeys(await this.#state())
  }

  /** Share the current keys with the members that lack them (admins holding the keys); undefined when none lacks any. */
  async shareMissingKeys (options?: AbortOptions): Promise<string | undefined> {
    const ring = this.#privateRing('share keys')
    if ((await this.membersLackingKeys()).size === 0) return undefined
    return this.#writer.append(async (heads) => {
      const state = await this.#policy.state(heads)
      const keys = []
      for (const [epoch, missing] of lackingKeys(state)) keys.push(...await ring.sharesFor(missing, [epoch]))
      return aclPayload({ action: 'share', keys, at: Date.now() })
    }, options)
  }

  /**
   * Take back a key this node's user delegated to. Databases of rules version 2: an admin's
   * node then starts a new key epoch in a private database (`rotateForRevokedDevices`).
   * Databases made before: the revocation carries the new epoch key itself.
   */
  async revokeDevice (did: string, options?: AbortOptions): Promise<string> {
    if (typeof did !== 'string' || !did.startsWith('did:key:')) throw new InvalidValueError('revokeDevice takes the did:key of the device or session to revoke')
    Did.parse(did)
    const ring = this.#keyring
    if (this.#policy.rulesVersion >= 2) {
      // The revocation names a key registered here (the write gate says so if not). Only
      // admins start epochs: an admin's revocation carries the new key (so what it writes
      // next is sealed without the device); another member's carries none, and an admin's
      // node rotates when it sees it (key-courier.ts).
      if (ring === undefined || !this.#policy.mutable || !(await this.isAdmin())) return this.#acl({ action: 'revoke-device', did, at: Date.now() }, options)
    }
    if (ring === undefined || !this.#policy.mutable) return this.#acl({ action: 'revoke-device', did, at: Date.now() }, options)
    return this.#writer.append(async (heads) => {
      const state = await this.#policy.state(heads)
      const after = { ...state, revokedDevices: new Set([...state.revokedDevices, `${this.#did} ${did}`]) }
      const at = Date.now()
      return aclPayload({ action: 'revoke-device', did, at, rekey: await ring.rekey(this.#wrapFor(after, membersOf(state), at), state.epochs) })
    }, options)
  }

  /**
   * Private databases of rules version 2, admins: start a new key epoch when a key that holds
   * a current one was taken back by its user (only admins start epochs). Undefined when none does.
   */
  async rotateForRevokedDevices (options?: AbortOptions): Promise<string | undefined> {
    if (this.#keyring === undefined || !this.#policy.mutable || this.#policy.rulesVersion < 2) return undefined
    return keyExposed(await this.#state(), Date.now()) ? this.rotateKey(options) : undefined
  }

  #privateRing (what: string): Keyring {
    this.#writer.assertOpen()
    if (this.#keyring === undefined) throw new AccessDeniedError(this.#did, this.#address, `cannot ${what}: this database is not private`, 'invalid-operation')
    return this.#keyring
  }

  #assertRole (role: unknown): asserts role is Role {
    if (!isRole(role)) throw new InvalidValueError(`unknown role ${JSON.stringify(role)}; use "admin", "writer" or "reader"`)
    if (role === 'reader' && this.#keyring === undefined) throw new InvalidValueError('readers are for private databases; anyone can read this one')
  }

  async invite (did: string, options: InviteOptions): Promise<string> {
    this.#writer.assertOpen()
    Did.parse(did)
    if (isDelegated(this.#identity)) {
      throw new AccessDeniedError(this.#did, this.#address, 'cannot sign an invite with a delegated key: invites are signed by the admin\'s own did:key (issue them from the root device)', 'invalid-operation')
    }
    if (options.role !== undefined) this.#assertRole(options.role)
    if (!this.#policy.mutable) throw new AccessDeniedError(this.#did, this.#address, 'cannot invite: this database has a fixed set of writers', 'invalid-operation')
    if (!(await this.isAdmin())) throw new AccessDeniedError(this.#did, this.#address, 'is not an admin of this database, so cannot invite', 'not-an-admin')
    if (options.role === 'admin' && !this.#policy.genesis.admins.includes(this.#did)) {
      throw new AccessDeniedError(this.#did, this.#address, 'is not a founding admin, so cannot invite an admin', 'not-an-admin')
    }
    // In a private database the invite carries the current keys, so the invitee reads as soon as it redeems:
    // wrapped for the invitee, or for the session that will redeem it (a wallet holds no key itself).
    const { sessionKey, ...claims } = options
    const holder = sessionKey ?? did
    if (this.#keyring !== undefined) {
      if (!holdsKeys(holder)) throw new InvalidValueError(`${did} holds no key to wrap this private database's keys to: pass the session key that will redeem the invite (sessionKey: the invitee's didbase.did)`)
      if (sessionKey !== undefined) Did.parse(sessionKey)
    }
    const keys = this.#keyring === undefined ? {} : { keys: await this.#keyring.sharesFor([holder], (await this.#state()).epochs) }
    return createInvite(this.#identity, { address: this.#address, audience: did, ...claims, ...keys })
  }

  async cancelInvite (tokenOrId: string, options?: AbortOptions): Promise<string> {
    const id = tokenOrId.includes('.') ? decodeInvite(tokenOrId).id : tokenOrId
    return this.#acl({ action: 'cancel-invite', id, at: Date.now() }, options)
  }

  async redeem (token: string, options?: AbortOptions): Promise<string> {
    const claims = decodeInvite(token)
    if (claims.address !== this.#address) throw new InvalidInviteError(`the invite is for ${claims.address}, not ${this.#address}`)
    // A delegated key (a wallet's session) brings its delegation: its user has no role yet to register it under.
    const proof = isDelegated(this.#identity) ? { proof: [...this.#identity.proof] } : {}
    return this.#acl({ action: 'redeem', token, at: Date.now(), ...proof }, options)
  }

  async #acl (acl: Parameters<typeof aclPayload>[0], options?: AbortOptions): Promise<string> {
    return this.#writer.append(async () => aclPayload(acl), options)
  }

  /**
   * Who a new epoch key is wrapped for when `members` remain: those that hold keys
   * themselves, and this node's own session when its user is a wallet that remains (so it
   * keeps writing); other sessions are handed the key by an admin's node afterwards.
   */
  #wrapFor (state: Pick<AclState, 'sessions' | 'revokedDevices'>, members: readonly string[], at: number): string[] {
    const { required, optional } = keyRecipients(state, members, at)
    const own = isDelegated(this.#identity) ? this.#identity.signer.did : undefined
    return own !== undefined && optional.has(own) ? [...required, own].sort() : required
  }

  async #state (): Promise<AclState> {
    return this.#policy.state(await this.#writer.heads())
  }
}

/** The current epochs whose key some member (or live key of one) lacks, with who lacks it. */
function lackingKeys (state: AclState): Map<string, string[]> {
  const members = keyHolders(state, Date.now())
  const lacking = new Map<string, string[]>()
  for (const epoch of state.epochs) {
    const missing = members.filter((d) => !(state.keyHolders.get(epoch)?.has(d) ?? false))
    if (missing.length > 0) lacking.set(epoch, missing)
  }
  return lacking
}
