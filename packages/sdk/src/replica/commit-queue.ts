/**
 * Group commit: data writes issued without awaiting each other (a burst of `put`s, a
 * `Promise.all`, several callers) share signed entries. Each write is checked alone first
 * (policy, ownership, schema, sealing), so a bad one fails its own promise; the ones that
 * passed are appended in the order they were issued, as few entries as the limits on one
 * entry allow, while the previous append is under way. Nothing waits for company: a write
 * that finds the queue idle is appended at once, as it always was.
 *
 * An atomic batch (`db.batch`) is one item of several operations that is never split or
 * merged with others.
 */
import { batchPayload, type DataPayload } from '@didbase/access/internal'
import type { AbortOptions } from '../abort.js'
import { fitsOneEntry } from './entry-limits.js'

/** What a checked write adds to an entry. */
export interface Checked {
  ops: DataPayload[]
  /** The operations' size, dag-cbor encoded. */
  bytes: number
  /** Write it again on its own, checked and built anew: its group was refused (the heads moved under it). */
  alone: () => Promise<string>
}

interface Item {
  state: 'checking' | 'ready' | 'failed'
  atomic: boolean
  checked?: Checked
  signal: AbortSignal | undefined
  resolve: (hash: string) => void
  reject: (err: unknown) => void
}

export interface CommitQueueInit {
  /** Sign and append `payload` (one data operation, or a batch): resolves to the entry hash once it is stored. */
  append: (payload: DataPayload | ReturnType<typeof batchPayload>) => Promise<string>
  /** Whether a refusal of a whole group is worth retrying its writes alone (the heads moved between check and append). */
  refused: (err: unknown) => boolean
}

export class CommitQueue {
  readonly #items: Item[] = []
  readonly #init: CommitQueueInit
  #appending = false
  #idle: Array<() => void> = []
  /** Entries appended and operations they carried, since the database opened. */
  readonly stats = { entries: 0, operations: 0 }

  constructor (init: CommitQueueInit) {
    this.#init = init
  }

  /**
   * Queue a write: `check` runs at once (concurrently with other writes' checks) and says
   * what the write adds. Resolves to the hash of the entry that holds it.
   */
  async submit (check: () => Promise<Checked>, options: AbortOptions & { atomic?: boolean } = {}): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      const item: Item = { state: 'checking', atomic: options.atomic === true, signal: options.signal, resolve, reject }
      this.#items.push(item)
      check().then((checked) => {
        item.checked = checked
        item.state = 'ready'
      }, (err: unknown) => {
        item.state = 'failed'
        reject(err)
      }).finally(() => { this.#pump() })
    })
  }

  /** Take the ready writes at the front, in order, as one group within the limits of one entry. */
  #take (): Item[] {
    const group: Item[] = []
    let ops = 0
    let bytes = 0
    while (this.#items.length > 0) {
      const item = this.#items[0] as Item
      if (item.state === 'checking') break
      if (item.state === 'failed') {
        this.#items.shift()
        continue
      }
      if (item.signal?.aborted === true) {
        // Not signed yet: an abort still calls it off.
        this.#items.shift()
        item.reject(item.signal.reason)
        continue
      }
      const checked = item.checked as Checked
      const fits = fitsOneEntry(ops + checked.ops.length, bytes + checked.bytes)
      if (group.length > 0 && (item.atomic || group[0]?.atomic === true || !fits)) break
      this.#items.shift()
      group.push(item)
      ops += checked.ops.length
      bytes += checked.bytes
    }
    return group
  }

  #pump (): void {
    if (this.#appending) return
    const group = this.#take()
    if (group.length === 0) {
      if (this.#items.length === 0) for (const resolve of this.#idle.splice(0)) resolve()
      return
    }
    this.#appending = true
    this.#commit(group).finally(() => {
      this.#appending = false
      this.#pump()
    })
  }

  async #commit (group: Item[]): Promise<void> {
    const ops = group.flatMap((item) => (item.checked as Checked).ops)
    const payload = ops.length === 1 ? ops[0] as DataPayload : batchPayload(ops)
    let hash: string
    try {
      hash = await this.#init.append(payload)
    } catch (err) {
      if (!this.#init.refused(err)) {
        for (const item of group) item.reject(err)
        return
      }
      // The heads moved between the checks and the append (a revocation or a new key epoch
      // arrived), and the entry was refused: each write is checked, built and written again
      // on its own, and fails alone if it lost its right to be written.
      for (const item of group) await (item.checked as Checked).alone().then(item.resolve, item.reject)
      return
    }
    this.stats.entries++
    this.stats.operations += ops.length
    for (const item of group) item.resolve(hash)
  }

  /** Resolves once no write is queued or being appended. */
  async idle (): Promise<void> {
    if (this.#items.length === 0 && !this.#appending) return
    return new Promise<void>((resolve) => { this.#idle.push(resolve) })
  }
}
