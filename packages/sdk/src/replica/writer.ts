/**
 * The one way a replica's own entries are written. Every write is checked before anything is
 * signed (write-gate.ts), then appended; a delegated key registers its delegation first and
 * dates what it signs. Two entry points, one rule each:
 * - `append` writes one entry made for the heads it links to. When the heads moved under it
 *   and the entry was refused for that (a rotation arrived in between), it is built again
 *   for the new heads: at most three tries.
 * - `commit` writes data operations, grouped with the writes issued around it
 *   (commit-queue.ts); a group refused as a whole is written again one `append` at a time.
 * The limits on one entry are checked in one place (entry-limits.ts).
 */
import { type DelegatedIdentity, type DidIdentity, EntryRejectedError } from '@didbase/access'
import { type AccessPolicy, aclPayload, BATCH_OP, batchPayload, type DataPayload, isDelegated } from '@didbase/access/internal'
import type { AbortOptions } from '../abort.js'
import { CommitQueue } from './commit-queue.js'
import { assertFitsOneEntry } from './entry-limits.js'
import { WriteGate } from './write-gate.js'

/** Tries of one `append` when the heads keep moving under it. */
const MAX_TRIES = 3

/** The log a writer appends to. */
export interface AppendLog {
  /** The heads a new entry links to, sorted. */
  heads: () => Promise<string[]>
  /** Sign and append `payload`; resolves to the entry hash once it is stored. */
  append: (payload: unknown) => Promise<string>
}

export interface WriterInit {
  identity: DidIdentity
  address: string
  policy: AccessPolicy
  log: AppendLog
}

/** Builds the payload of one entry for the heads it will link to. */
export type BuildEntry = (heads: string[]) => Promise<unknown>
/** Builds the data operations of one write for the heads it will link to (sealed under their epochs, say). */
export type BuildOperations = (heads: readonly string[]) => Promise<DataPayload[]>

export class Writer {
  readonly #policy: AccessPolicy
  readonly #log: AppendLog
  readonly #gate: WriteGate
  readonly #queue: CommitQueue
  /** Set when this node signs with a delegated key: its delegation is registered once per database. */
  readonly #delegated: DelegatedIdentity | undefined
  #session: Promise<void> | undefined
  #closed = false

  constructor (init: WriterInit) {
    this.#policy = init.policy
    this.#log = init.log
    this.#delegated = isDelegated(init.identity) ? init.identity : undefined
    const signer = this.#delegated?.signer.did ?? init.identity.did
    this.#gate = new WriteGate({ did: init.identity.did, signer, address: init.address, policy: init.policy, heads: async () => this.#log.heads(), closed: () => this.#closed })
    this.#queue = new CommitQueue({
      // A write alone is dated when checked (`commit`), and its entry carries the very payload
      // the policy passed; a group's one time goes on its batch (operations in a batch carry none).
      append: async (payload) => this.#log.append(payload.op === BATCH_OP ? this.#dated(payload) : payload),
      refused: (err) => err instanceof EntryRejectedError
    })
  }

  /** Throw `ClosedError` once the database is closing. */
  assertOpen (): void {
    this.#gate.assertOpen()
  }

  /** The heads a new entry links to, sorted. */
  async heads (): Promise<string[]> {
    return this.#log.heads()
  }

  /** Write one entry built for the heads it links to; built again (up to three tries) when a move of the heads got it refused. */
  async append (build: BuildEntry, options?: AbortOptions): Promise<string> {
    for (let attempt = 1; ; attempt++) {
      const heads = await this.#log.heads()
      const payload = await build(heads)
      try {
        return await this.#signAndAppend(payload, options)
      } catch (err) {
        const reason = (err as { reason?: string }).reason
        const retry = attempt < MAX_TRIES && (reason === 'stale-key' || reason === 'invalid-operation') && (await this.#log.heads()).join() !== heads.join()
        if (!retry) throw err
      }
    }
  }

  /**
   * A data write: checked alone, then committed with the writes issued around it. `atomic`
   * keeps several operations together in one entry, all or nothing.
   */
  async commit (build: BuildOperations, options: AbortOptions = {}, atomic = false): Promise<string> {
    const delegated = this.#delegated
    this.assertOpen()
    return this.#queue.submit(async () => {
      if (delegated !== undefined) await this.registerSession(options)
      // Only what is sealed depends on the heads; the gate reads them itself when the policy needs them.
      const policy = this.#policy
      const heads = policy.privacy !== undefined || policy.mutable || policy.ownership || delegated !== undefined ? await this.#log.heads() : []
      const built = (await build(heads)).map((op) => this.#dated(op))
      assertFitsOneEntry(built.length, 0)
      // The operations that passed, as they were checked, are what is appended.
      const ops: DataPayload[] = []
      let bytes = 0
      for (const [i, op] of built.entries()) {
        try {
          const checked = await this.#gate.check(op, options, heads)
          ops.push(checked.payload)
          bytes += checked.bytes
        } catch (err) {
          if (atomic && built.length > 1 && err instanceof Error) err.message = `operation ${i} of the batch: ${err.message}`
          throw err
        }
      }
      assertFitsOneEntry(ops.length, bytes)
      const alone = async (): Promise<string> => this.append(async (next) => {
        const rebuilt = await build(next)
        return rebuilt.length === 1 ? rebuilt[0] : batchPayload(rebuilt)
      }, options)
      return { ops, bytes, alone }
    }, { ...options, atomic })
  }

  /** A delegated key's first write to this database registers its delegation (a `session` entry), once. */
  async registerSession (options?: AbortOptions): Promise<void> {
    const delegated = this.#delegated
    if (delegated === undefined) return
    this.#session ??= (async () => {
      const state = await this.#policy.state(await this.#log.heads())
      const held = state.sessions.get(`${delegated.did} ${delegated.signer.did}`)
      if (held !== undefined && held.expiresAt >= delegated.expiresAt) return
      await this.#checkAndAppend(aclPayload({ action: 'session', proof: [...delegated.proof], at: Date.now() }), options)
    })()
    try {
      await this.#session
    } catch (err) {
      this.#session = undefined
      throw err
    }
  }

  /** Whether this node signs with a delegated key. */
  get delegated (): boolean {
    return this.#delegated !== undefined
  }

  /** Resolves once no write is queued or being appended. */
  async idle (): Promise<void> {
    await this.#queue.idle()
  }

  /** Refuse new writes (`ClosedError`); writes already issued complete. */
  close (): void {
    this.#closed = true
  }

  /** Entries the commit queue appended and the operations they carried. */
  get stats (): { entries: number, operations: number } {
    return this.#queue.stats
  }

  /** Sign and append one payload as this node writes it: a delegated key registers itself first and dates what it signs. */
  async #signAndAppend (payload: unknown, options?: AbortOptions): Promise<string> {
    if (this.#delegated === undefined) return this.#checkAndAppend(this.#dated(payload), options)
    if (bringsDelegation(payload)) {
      // A redeem that brings the key's delegation registers the key itself.
      const hash = await this.#checkAndAppend(payload, options)
      this.#session ??= Promise.resolve()
      return hash
    }
    await this.registerSession(options)
    return this.#checkAndAppend(this.#dated(payload), options)
  }

  async #checkAndAppend (payload: unknown, options?: AbortOptions): Promise<string> {
    return this.#gate.write(payload, async (checked) => this.#log.append(checked), options)
  }

  /**
   * A data write carries its writer's time (`at`, ms), signed with it: readers see it as the
   * record's `time`, and replicas judge a delegated entry's delegation against it. Access
   * operations carry their own. A private database's writes signed with the DID's own key
   * carry none: replicas that are not members would learn when each was made.
   */
  #dated<P> (payload: P): P {
    if ((payload as { op?: unknown }).op === 'ACL') return payload
    if (this.#delegated === undefined && this.#policy.privacy !== undefined) return payload
    return { ...payload, at: Date.now() }
  }
}

/** An access payload that carries its signer's delegation (a delegated key's redeem). */
function bringsDelegation (payload: unknown): boolean {
  const p = payload as { op?: unknown, value?: { proof?: unknown } } | null
  return p?.op === 'ACL' && p.value?.proof !== undefined
}
