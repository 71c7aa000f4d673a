/**
 * Private databases, as a member reads and writes them: record keys are blinded, values
 * (with their record keys) are sealed under the keys of the epochs current at the write and
 * bound to their database, epochs and record. Replicas that are not members store, serve and
 * judge the sealed entries. The keys come from the member's Keyring (in @didbase/access).
 */
import { AccessDeniedError, type DidIdentity, type PrivateField } from '@didbase/access'
import { type AccessPolicy, blindKey, isDelegated, DecryptionError, epochField, epochLabel, Keyring, MAX_DEPTH, notPlainData, openSealed, seal, type SealedValue, sealedEpochs } from '@didbase/access/internal'
import { assertEncodable } from './values.js'
import { nestingOf } from '../codec/cbor-walk.js'
import type { Schema } from '@didbase/schemas'
import * as dagCbor from '@ipld/dag-cbor'

export type { SealedValue } from '@didbase/access/internal'

/** What is sealed: the record key (null for events) and the value. */
interface Plain { key: string | null, value: unknown }

export type Unreadable = 'undecryptable' | 'no-key' | 'schema-mismatch'
export type Opened = { ok: Plain } | { unreadable: Unreadable, message: string }

/** Events have no record key: they are bound to their database alone. */
const EVENT_RECORD = '(event)'

export class Vault {
  readonly #identity: DidIdentity
  readonly #address: string
  readonly #schema: Schema | undefined
  readonly #policy: AccessPolicy
  readonly keyring: Keyring
  readonly #heads: () => Promise<string[]>
  #blinding: Promise<Uint8Array> | undefined
  #judged: Promise<unknown> | undefined

  /** `heads`: this replica's heads, whose past holds the key shares (an ACL database's). */
  constructor (privacy: PrivateField, identity: DidIdentity, address: string, policy: AccessPolicy, heads: () => Promise<string[]>) {
    this.#identity = identity
    this.#address = address
    this.#schema = policy.schema
    this.#policy = policy
    this.#heads = heads
    // A delegated device holds its own key, not its user's: shares for it are wrapped to that key.
    this.keyring = new Keyring(isDelegated(identity) ? identity.signer : identity, address, privacy, () => policy.keys)
  }

  /**
   * Key shares are read off judged entries. Entries that arrive are judged as they do; a log
   * loaded from disk is judged once, on the first read or write that needs a key.
   */
  async #keysJudged (): Promise<void> {
    if (!this.#policy.mutable) return
    const judged = this.#judged ?? this.#heads().then(async (heads) => this.#policy.state(heads))
    this.#judged = judged
    try {
      await judged
    } catch (err) {
      this.#judged = undefined
      throw err
    }
  }

  /**
   * The genesis key's blinding key; `AccessDeniedError` when this node is not a member (or
   * not yet): `not-a-reader` for a read, `not-a-writer` for a write.
   */
  async #blindingKey (use: 'read' | 'write' = 'read'): Promise<Uint8Array> {
    await this.#keysJudged()
    const blinding = this.#blinding ?? this.keyring.blindingKey()
    this.#blinding = blinding
    try {
      return await blinding
    } catch (err) {
      // Not remembered: a grant that has not arrived yet may arrive.
      this.#blinding = undefined
      if (!(err instanceof DecryptionError)) throw err
      throw new AccessDeniedError(this.#identity.did, this.#address, `is not a member of this private database, so cannot ${use} it (it holds none of its keys)`, use === 'read' ? 'not-a-reader' : 'not-a-writer')
    }
  }

  /** Fail as a non-member would, before any read: an empty database tells a non-member nothing either. */
  async assertMember (): Promise<void> {
    await this.#blindingKey()
  }

  /** The blinded form of a record key, as entries and the record index carry it (`use`: what a non-member is refused). */
  async blind (key: string, use: 'read' | 'write' = 'read'): Promise<string> {
    return blindKey(await this.#blindingKey(use), key)
  }

  /** Seal a record (`key` null for an event) for an entry that will link to `heads`. */
  async seal (key: string | null, value: unknown, blinded: string | null, heads: readonly string[]): Promise<SealedValue> {
    // What a public database refuses locally, a private one refuses too (depth, plain data, dag-cbor).
    assertEncodable(value)
    if (this.#schema !== undefined) {
      // Replicas cannot check a sealed value: the writer checks it here, members on read.
      const checked = this.#schema.read(value)
      if ('error' in checked) throw checked.error
    }
    await this.#blindingKey('write')
    const state = await this.#policy.state(heads)
    const { epochs } = state
    let sealing: Uint8Array
    try {
      sealing = await this.keyring.sealingKey(epochs)
    } catch (cause) {
      if (!(cause instanceof DecryptionError)) throw cause
      if (state.revokedDevices.has(`${this.#identity.did} ${this.keyring.did}`)) {
        throw new AccessDeniedError(this.#identity.did, this.#address, `cannot write with the key ${this.keyring.did}: its user took it back`, 'device-revoked')
      }
      // A member removed from the database is never handed the new key: it must not be told to wait for one.
      const did = this.#identity.did
      if (!state.admins.has(did) && !state.writers.has(did) && !state.writers.has('*')) {
        const why = state.revokedAt.has(did) ? 'is no longer a writer of this database: an admin revoked it, and a revoked member writes nothing; ask an admin for a new invite' : 'is not a writer of this database; ask an admin for an invite'
        throw new AccessDeniedError(did, this.#address, why, 'not-a-writer')
      }
      throw new AccessDeniedError(this.#identity.did, this.#address, `cannot write yet: it holds no key for the current epoch (an admin shares it once it sees this member lacks it): ${cause.message}`, 'stale-key')
    }
    const sealed = seal(sealing, dagCbor.encode({ key, value } satisfies Plain), this.#binding(blinded, epochs))
    return { v: 1, nonce: sealed.nonce, ciphertext: sealed.ciphertext, ...epochField(epochs) }
  }

  /** Open a stored value; what a member cannot read is reported, never thrown. */
  async open (stored: unknown, blinded: string | null): Promise<Opened> {
    const blinding = await this.#blindingKey()
    const epochs = sealedEpochs(stored)
    if (typeof epochs === 'string') return { unreadable: 'undecryptable', message: epochs }
    const s = stored as SealedValue
    let sealing: Uint8Array
    try {
      sealing = await this.keyring.sealingKey(epochs)
    } catch (err) {
      if (!(err instanceof DecryptionError)) throw err
      return { unreadable: 'no-key', message: err.message }
    }
    let plain: Plain
    try {
      const bytes = openSealed(sealing, { nonce: s.nonce, ciphertext: s.ciphertext }, this.#binding(blinded, epochs))
      // Decoding recurses: refuse deep nesting before it, so no member's stack size decides what it reads.
      if (nestingOf(bytes) > MAX_DEPTH + 2) return { unreadable: 'undecryptable', message: `the sealed value is nested more than ${MAX_DEPTH} deep` }
      plain = dagCbor.decode(bytes)
    } catch (err) {
      return { unreadable: 'undecryptable', message: (err as Error).message }
    }
    if (plain === null || typeof plain !== 'object' || !('value' in plain) || (blinded !== null && (typeof plain.key !== 'string' || blindKey(blinding, plain.key) !== blinded))) {
      return { unreadable: 'undecryptable', message: 'the sealed record does not belong to this key' }
    }
    const why = notPlainData(plain.value)
    if (why !== undefined) return { unreadable: 'undecryptable', message: `the sealed value is not plain data: ${why}` }
    if (this.#schema !== undefined) {
      const checked = this.#schema.read(plain.value)
      if ('error' in checked) return { unreadable: 'schema-mismatch', message: checked.error.message }
    }
    return { ok: plain }
  }

  #binding (blinded: string | null, epochs: readonly string[]): { address: string, epoch: number | string, record: string } {
    return { address: this.#address, epoch: epochLabel(epochs), record: blinded ?? EVENT_RECORD }
  }
}
