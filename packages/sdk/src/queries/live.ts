/**
 * A watched query: its page now, then its page again each time a write (local, or from a
 * replica) changes it, and never for a write that leaves it as it was.
 *
 * Each changed record is first judged on what it was and what it is: a page changes only if
 * the record was on it, or now passes the filter and sorts before the page's end. Only then
 * is the query run again, and its page is handed on if its records differ from the last one.
 * A slow reader of the iterator gets the latest page, not every page in between.
 */
import { decodeCursor } from './cursor.js'
import { compareSortValues, matches, sortValuesOf } from './match.js'
import type { Page, Plan, QueryRecord } from './query.js'

/** A record whose deciding entry changed: the entry it had (if any), and its record now (undefined when deleted or unreadable). */
export interface RecordChange<T> {
  before: string | undefined
  after: () => Promise<QueryRecord<T> | undefined>
}

export interface WatchOptions<T> {
  /** Called with the first page and with every page that differs from the last. */
  onPage?: (page: Page<T>) => void
  /** Called when the query cannot run (a non-member of a private database); the watch ends. */
  onError?: (err: Error) => void
  /** Ends the watch. Closing the database ends it too, with no error. */
  signal?: AbortSignal
}

export interface LiveQueryParts<T> {
  plan: Plan
  run: () => Promise<Page<T>>
  /** Listen to changes; returns the function that stops listening. */
  subscribe: (listener: (change: RecordChange<T>) => void) => () => void
  /** Told once, when the watch ends. */
  ended?: (watch: LiveQuery<T>) => void
}

const same = (a: Page<unknown>, b: Page<unknown>): boolean =>
  a.records.length === b.records.length && a.records.every((r, i) => r.key === b.records[i]?.key && r.hash === b.records[i]?.hash)

export class LiveQuery<T> implements AsyncIterable<Page<T>> {
  readonly #parts: LiveQueryParts<T>
  readonly #options: WatchOptions<T>
  readonly #after: unknown[] | undefined
  #page: Page<T> | undefined
  #pending: Array<RecordChange<T>> = []
  #running = false
  #ended = false
  #error: Error | undefined
  #unsubscribe: () => void
  /** The page the iterator has not handed out yet, and who waits for one. */
  #unread: Page<T> | undefined
  #wake: (() => void) | undefined
  readonly #onAbort = (): void => { this.close() }

  constructor (parts: LiveQueryParts<T>, options: WatchOptions<T> = {}) {
    this.#parts = parts
    this.#options = options
    this.#after = parts.plan.after === undefined ? undefined : decodeCursor(parts.plan.sort, parts.plan.after)
    this.#unsubscribe = parts.subscribe((change) => {
      this.#pending.push(change)
      void this.#drain()
    })
    options.signal?.addEventListener('abort', this.#onAbort, { once: true })
    if (options.signal?.aborted === true) this.close()
    else void this.#drain(true)
  }

  /** The latest page handed out. */
  get current (): Page<T> | undefined {
    return this.#page
  }

  /** Stop watching. */
  close (): void {
    if (this.#ended) return
    this.#ended = true
    this.#unsubscribe()
    // A long-lived signal shared by many watches must not keep ended ones alive.
    this.#options.signal?.removeEventListener('abort', this.#onAbort)
    this.#wake?.()
    this.#parts.ended?.(this)
  }

  async #drain (first = false): Promise<void> {
    if (this.#running || this.#ended) return
    this.#running = true
    try {
      let rerun = first
      while (!this.#ended && (rerun || this.#pending.length > 0)) {
        const changes = this.#pending
        this.#pending = []
        if (!rerun) rerun = await this.#touches(changes)
        if (!rerun) continue
        rerun = false
        const page = await this.#parts.run()
        if (this.#ended) return
        if (this.#page !== undefined && same(this.#page, page)) continue
        this.#page = page
        this.#unread = page
        this.#wake?.()
        this.#options.onPage?.(page)
      }
    } catch (err) {
      this.#error = err as Error
      this.#options.onError?.(err as Error)
      this.close()
    } finally {
      this.#running = false
    }
  }

  /** Whether any of `changes` may change the page. */
  async #touches (changes: ReadonlyArray<RecordChange<T>>): Promise<boolean> {
    const page = this.#page
    if (page === undefined) return true
    const { plan } = this.#parts
    const full = page.records.length >= plan.limit
    const last = page.records.at(-1)
    const end = full && last !== undefined ? sortValuesOf(last, plan.sort) : undefined
    for (const change of changes) {
      if (change.before !== undefined && page.records.some((r) => r.hash === change.before)) return true
      const record = await change.after()
      if (record === undefined || !matches(plan.filter, record)) continue
      const values = sortValuesOf(record, plan.sort)
      if (this.#after !== undefined && compareSortValues(plan.sort, values, this.#after) <= 0) continue
      if (end === undefined || compareSortValues(plan.sort, values, end) < 0) return true
    }
    return false
  }

  async * [Symbol.asyncIterator] (): AsyncGenerator<Page<T>> {
    try {
      for (;;) {
        if (this.#unread !== undefined) {
          const page = this.#unread
          this.#unread = undefined
          yield page
          continue
        }
        if (this.#error !== undefined) throw this.#error
        if (this.#ended) return
        await new Promise<void>((resolve) => { this.#wake = resolve })
        this.#wake = undefined
      }
    } finally {
      this.close()
    }
  }
}
