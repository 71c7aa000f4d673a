import type { EventsDatabase as OrbitEvents } from '@orbitdb/core'
import type { AbortOptions } from '../abort.js'
import { DatabaseHandle, type Signed } from './database.js'
import { inClockOrder } from './record-index.js'

export interface EventLogReadOptions {
  /** At most this many events, newest first. */
  limit?: number
}

/** An append-only event log. */
export class EventLogDatabase<T = unknown> extends DatabaseHandle {
  readonly type = 'events' as const

  private get events (): OrbitEvents {
    return this.db as OrbitEvents
  }

  /** Append `value`. Resolves to the entry hash. */
  async add (value: T, options?: AbortOptions): Promise<string> {
    const vault = this.vault
    if (vault !== undefined) return this.writeBuilt(async (heads) => ({ op: 'ADD', key: null, value: await vault.seal(null, value, null, heads) }), options)
    return this.write({ op: 'ADD', key: null, value }, async () => this.events.add(value), options)
  }

  /** An event's value, opened when the database is private; undefined (and reported) when this member cannot read it. */
  async #valueOf (hash: string, writer: string, stored: unknown): Promise<{ value: T } | undefined> {
    if (this.vault === undefined) return { value: stored as T }
    const opened = await this.vault.open(stored, null)
    if ('ok' in opened) return { value: opened.ok.value as T }
    this.reportUnreadable(hash, writer, opened.unreadable, opened.message)
    return undefined
  }

  /** The event with entry hash `hash`, if this replica has it. */
  async get (hash: string): Promise<Signed<T> | undefined> {
    const entry = await this.db.log.get(hash)
    if (entry === undefined || (entry.payload as { op?: unknown }).op !== 'ADD') return undefined
    const opened = await this.#valueOf(hash, entry.identity, (entry.payload as { value: unknown }).value)
    return opened === undefined ? undefined : { value: opened.value, hash, writer: entry.identity }
  }

  /** Events, latest first, in the same order on every replica. */
  async * entries (options: EventLogReadOptions = {}): AsyncGenerator<Signed<T>> {
    await this.vault?.assertMember()
    let left = options.limit ?? Number.POSITIVE_INFINITY
    if (left <= 0) return
    for await (const entry of inClockOrder(this.db.log.iterator())) {
      // Access operations (grants, invites) share the log; they are not events.
      if ((entry.payload as { op?: unknown }).op !== 'ADD') continue
      const opened = await this.#valueOf(entry.hash, entry.identity, (entry.payload as { value: unknown }).value)
      if (opened === undefined) continue
      yield { value: opened.value, hash: entry.hash, writer: entry.identity }
      if (--left <= 0) return
    }
  }
}
