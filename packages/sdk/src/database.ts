/** What the three database handles share: policy checks, events, rejection reports, close. */
import { AccessDeniedError, EntryRejectedError, type RejectionReason, type WritePolicy } from '@didbase/access'
import * as dagCbor from '@ipld/dag-cbor'
import type { Database, LogEntry } from '@orbitdb/core'
import { TypedEventEmitter } from 'main-event'
import { ClosedError, InvalidValueError } from './errors.js'
import type { DatabaseEvents } from './events.js'
import type { DatabaseType } from './manifest.js'

/** A record with the DID that wrote it. */
export interface Signed<T> {
  value: T
  /** Hash (CID) of the oplog entry that holds the value. */
  hash: string
  /** DID whose key signed the entry. */
  writer: string
}

export interface HandleContext {
  db: Database
  policy: WritePolicy
  did: string
  onClose: () => void
}

function reasonOf (err: unknown): { hash?: string, did?: string, reason: RejectionReason, message: string } {
  if (err instanceof EntryRejectedError) return { hash: err.hash, did: err.did, reason: err.reason, message: err.message }
  const message = err instanceof Error ? err.message : String(err)
  if (message.includes("doesn't match the log's id")) return { reason: 'wrong-database', message }
  if (message.includes('Could not validate signature')) return { reason: 'bad-signature', message }
  if (err instanceof Error && (err.name === 'AbortError' || err.name === 'TimeoutError')) return { reason: 'unavailable', message }
  return { reason: 'malformed-entry', message }
}

export abstract class DatabaseHandle extends TypedEventEmitter<DatabaseEvents> implements AsyncDisposable {
  abstract readonly type: DatabaseType
  /** The database address: share it so others can open the same database. */
  readonly address: string
  readonly name: string
  protected readonly db: Database
  readonly #policy: WritePolicy
  readonly #did: string
  readonly #onClose: () => void
  #closing: Promise<void> | undefined

  constructor (ctx: HandleContext) {
    super()
    this.db = ctx.db
    this.address = ctx.db.address
    this.name = ctx.db.name
    this.#policy = ctx.policy
    this.#did = ctx.did
    this.#onClose = ctx.onClose
    this.#watch()
  }

  /** DIDs that may write, or `['*']` for anyone. */
  get writers (): readonly string[] {
    return this.#policy.writers
  }

  /** Whether `did` (default: this node's DID) may write here. */
  canWrite (did: string = this.#did): boolean {
    return this.#policy.canWrite(did)
  }

  /** Number of entries in the local copy of the log. */
  async size (): Promise<number> {
    let n = 0
    for await (const _ of this.db.log.iterator()) n++
    return n
  }

  #watch (): void {
    const { events, log } = this.db
    events.on('update', (entry: LogEntry) => {
      this.safeDispatchEvent('update', { detail: { did: entry.identity, hash: entry.hash } })
    })
    events.on('join', (peerId: unknown) => {
      this.safeDispatchEvent('peer:join', { detail: { peerId: String(peerId) } })
    })
    // Without a listener, OrbitDB's sync 'error' events would throw and crash the process.
    events.on('error', (err: unknown) => {
      this.safeDispatchEvent('sync:error', { detail: err instanceof Error ? err : new Error(String(err)) })
    })
    // OrbitDB logs a refused remote entry to the console and drops it; report it instead.
    const joinEntry = log.joinEntry.bind(log)
    log.joinEntry = async (entry: LogEntry) => {
      try {
        return await joinEntry(entry)
      } catch (err) {
        const r = reasonOf(err)
        const claimed = typeof entry?.identity === 'string' ? entry.identity : '(none)'
        this.safeDispatchEvent('entry:rejected', {
          detail: { hash: r.hash ?? String(entry?.hash), did: r.did ?? claimed, reason: r.reason, message: r.message }
        })
        return false
      }
    }
  }

  /** Run a local write after the checks that must pass before anything is signed. */
  protected async write (value: unknown, op: () => Promise<string>): Promise<string> {
    if (this.#closing !== undefined) throw new ClosedError(`${this.address} is closed`)
    if (!this.#policy.canWrite(this.#did)) throw new AccessDeniedError(this.#did, this.address)
    assertEncodable(value)
    return op()
  }

  protected async writerOf (hash: string): Promise<string> {
    const entry = await this.db.log.get(hash)
    return entry?.identity ?? ''
  }

  /** Close this handle and its database. Idempotent. */
  async close (): Promise<void> {
    this.#closing ??= (async () => {
      this.#onClose()
      await this.db.close()
    })()
    return this.#closing
  }

  async [Symbol.asyncDispose] (): Promise<void> {
    await this.close()
  }
}

export function assertEncodable (value: unknown): void {
  try {
    dagCbor.encode(value)
  } catch (cause) {
    throw new InvalidValueError(`value cannot be stored: ${(cause as Error).message} (values must be dag-cbor: no undefined, functions, symbols or non-finite numbers)`, { cause })
  }
}

export function assertKey (key: unknown, what = 'key'): asserts key is string {
  if (typeof key !== 'string' || key.length === 0) {
    throw new InvalidValueError(`${what} must be a non-empty string, got ${key === '' ? 'an empty string' : typeof key}`)
  }
}
