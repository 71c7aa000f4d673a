/**
 * Private databases, as a member reads and writes them: record keys are blinded, values
 * (with their record keys) are sealed under the database key and bound to their database
 * and record. Replicas that are not members store, serve and judge the sealed entries.
 */
import { AccessDeniedError, blindKey, type DatabaseKeys, type DidIdentity, MAX_DEPTH, notPlainData, openDatabaseKeys, openSealed, type PrivateField, seal } from '@didbase/access'
import { assertEncodable } from './write-gate.js'
import type { Schema } from '@didbase/schemas'
import * as dagCbor from '@ipld/dag-cbor'

/** What a private database stores as an operation's value. */
export interface SealedValue {
  v: 1
  nonce: Uint8Array
  ciphertext: Uint8Array
}

/** What is sealed: the record key (null for events) and the value. */
interface Plain { key: string | null, value: unknown }

export type Opened = { ok: Plain } | { unreadable: 'undecryptable' | 'schema-mismatch', message: string }

/** Events have no record key: they are bound to their database alone. */
const EVENT_RECORD = '(event)'

export class Vault {
  readonly #privacy: PrivateField
  readonly #identity: DidIdentity
  readonly #address: string
  readonly #schema: Schema | undefined
  #keys: Promise<DatabaseKeys> | undefined

  constructor (privacy: PrivateField, identity: DidIdentity, address: string, schema: Schema | undefined) {
    this.#privacy = privacy
    this.#identity = identity
    this.#address = address
    this.#schema = schema
  }

  /** This node's keys; `AccessDeniedError` (`not-a-reader`) when it is not a member. */
  async #open (): Promise<DatabaseKeys> {
    this.#keys ??= openDatabaseKeys(this.#privacy, this.#identity)
    try {
      return await this.#keys
    } catch (cause) {
      throw new AccessDeniedError(this.#identity.did, this.#address, `is not a member of this private database, so cannot read it (${(cause as Error).message})`, 'not-a-reader')
    }
  }

  /** Fail as a non-member would, before any read: an empty database tells a non-member nothing either. */
  async assertMember (): Promise<void> {
    await this.#open()
  }

  /** The blinded form of a record key, as entries and the record index carry it. */
  async blind (key: string): Promise<string> {
    return blindKey((await this.#open()).blinding, key)
  }

  /** Seal a record (`key` null for an event) for the entry that will carry it. */
  async seal (key: string | null, value: unknown, blinded: string | null): Promise<SealedValue> {
    // What a public database refuses locally, a private one refuses too (depth, plain data, dag-cbor).
    assertEncodable(value)
    if (this.#schema !== undefined) {
      // Replicas cannot check a sealed value: the writer checks it here, members on read.
      const checked = this.#schema.read(value)
      if ('error' in checked) throw checked.error
    }
    const keys = await this.#open()
    const sealed = seal(keys.sealing, dagCbor.encode({ key, value } satisfies Plain), this.#binding(blinded))
    return { v: 1, nonce: sealed.nonce, ciphertext: sealed.ciphertext }
  }

  /** Open a stored value; what a member cannot read is reported, never thrown. */
  async open (stored: unknown, blinded: string | null): Promise<Opened> {
    const keys = await this.#open()
    const s = stored as Partial<SealedValue> | null
    if (s === null || typeof s !== 'object' || s.v !== 1 || !(s.nonce instanceof Uint8Array) || !(s.ciphertext instanceof Uint8Array)) {
      return { unreadable: 'undecryptable', message: 'the value is not sealed' }
    }
    let plain: Plain
    try {
      const bytes = openSealed(keys.sealing, { nonce: s.nonce, ciphertext: s.ciphertext }, this.#binding(blinded))
      // Decoding recurses: refuse deep nesting before it, so no member's stack size decides what it reads.
      if (nestingOf(bytes) > MAX_DEPTH + 2) return { unreadable: 'undecryptable', message: `the sealed value is nested more than ${MAX_DEPTH} deep` }
      plain = dagCbor.decode(bytes)
    } catch (err) {
      return { unreadable: 'undecryptable', message: (err as Error).message }
    }
    if (plain === null || typeof plain !== 'object' || !('value' in plain) || (blinded !== null && (typeof plain.key !== 'string' || blindKey(keys.blinding, plain.key) !== blinded))) {
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

  #binding (blinded: string | null): { address: string, epoch: number, record: string } {
    return { address: this.#address, epoch: 0, record: blinded ?? EVENT_RECORD }
  }
}

/**
 * The deepest nesting of arrays and maps in CBOR `bytes`, read without recursion (major types
 * 4 and 5 open a level; definite lengths only, as dag-cbor allows). Tags (6) add no level.
 */
function nestingOf (bytes: Uint8Array): number {
  const open: number[] = []
  let depth = 0
  let i = 0
  const argument = (info: number): number => {
    if (info < 24) return info
    const size = info === 24 ? 1 : info === 25 ? 2 : info === 26 ? 4 : info === 27 ? 8 : -1
    if (size < 0) throw new TypeError('not dag-cbor')
    let n = 0
    for (let k = 0; k < size; k++) n = n * 256 + (bytes[i++] ?? 0)
    return n
  }
  const done = (): void => {
    while (open.length > 0) {
      const left = (open[open.length - 1] as number) - 1
      if (left > 0) { open[open.length - 1] = left; return }
      open.pop()
    }
  }
  while (i < bytes.length) {
    const head = bytes[i++] as number
    const major = head >> 5
    const n = argument(head & 31)
    if (major === 2 || major === 3) { i += n; done() } else if (major === 4 || major === 5) {
      const items = major === 4 ? n : n * 2
      if (items === 0) { done(); continue }
      open.push(items)
      depth = Math.max(depth, open.length)
    } else if (major !== 6) done()
  }
  return depth
}
