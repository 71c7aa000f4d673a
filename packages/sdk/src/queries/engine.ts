/**
 * Runs a checked query: through the best index declared for the database (planner.ts), or
 * by reading every live record (scan.ts). Both give the same page.
 */
import { decodeCursor } from './cursor.js'
import type { IndexSet, RowRef } from './indexes.js'
import { matches, sortValuesOf } from './match.js'
import { encodeTuple } from './order.js'
import { chooseIndex, type Explanation, explanationOf, type IndexChoice, seekBounds } from './planner.js'
import type { Page, Plan, QueryRecord } from './query.js'
import { pageOf, scanCount, scanPage } from './scan.js'

/** What queries read from a database. */
export interface QuerySource<T> {
  /** Every live record this replica can read. */
  records: () => AsyncIterable<QueryRecord<T>>
  /** The record an index row points at; undefined when this replica cannot read it. */
  recordAt: (ref: RowRef) => Promise<QueryRecord<T> | undefined>
}

/** Rows read and records loaded at once while filling a page from an index. */
const READ_AHEAD = 32

export class QueryEngine<T> {
  readonly #source: QuerySource<T>
  readonly #indexes: IndexSet | undefined

  constructor (source: QuerySource<T>, indexes?: IndexSet) {
    this.#source = source
    this.#indexes = indexes
  }

  explain (plan: Plan): Explanation {
    return explanationOf(this.#choose(plan))
  }

  #choose (plan: Plan): IndexChoice | undefined {
    return this.#indexes === undefined ? undefined : chooseIndex(plan, this.#indexes.indexes)
  }

  async find (plan: Plan, signal?: AbortSignal): Promise<Page<T>> {
    const choice = this.#choose(plan)
    if (choice === undefined) return scanPage(this.#source.records(), plan)
    await this.#indexes?.ready()
    if (!choice.ordered) return scanPage(this.#rowRecords(choice, choice.bounds, signal), plan)
    // Rows come in the query's order: read from the cursor on, until the page is full and one more shows another follows.
    let bounds = choice.bounds
    if (plan.after !== undefined) {
      const after = decodeCursor(plan.sort, plan.after)
      const seek = encodeTuple([...choice.index.fields.map((field, i) => i < choice.equal.length ? choice.equal[i] : after[plan.sort.findIndex((s) => s.field === field)]), after.at(-1)])
      bounds = seekBounds(bounds, seek, choice.reverse)
    }
    const hits: Array<{ record: QueryRecord<T>, values: unknown[] }> = []
    for await (const record of this.#rowRecords(choice, bounds, signal, plan.limit + 1)) {
      if (!matches(plan.filter, record)) continue
      hits.push({ record, values: sortValuesOf(record, plan.sort) })
      if (hits.length > plan.limit) break
    }
    return pageOf(hits, plan)
  }

  async count (plan: Plan, signal?: AbortSignal): Promise<number> {
    const choice = this.#choose(plan)
    if (choice === undefined) return scanCount(this.#source.records(), plan)
    await this.#indexes?.ready()
    if (choice.exact) return choice.index.count(choice.bounds)
    return scanCount(this.#rowRecords(choice, choice.bounds, signal), plan)
  }

  /**
   * The records of the rows within `bounds`, in the rows' order, read from the copies kept
   * beside the rows (from the log where a copy is missing), a few at once: `first` at first
   * (a page's worth, when the rows come in its order), then more.
   */
  async * #rowRecords (choice: IndexChoice, bounds: IndexChoice['bounds'], signal?: AbortSignal, first = READ_AHEAD): AsyncGenerator<QueryRecord<T>> {
    let size = Math.min(first, READ_AHEAD)
    let refs: RowRef[] = []
    const load = async (): Promise<Array<QueryRecord<T> | undefined>> => {
      const taken = refs
      refs = []
      const copies = await (this.#indexes as IndexSet).copies(taken) as Array<QueryRecord<T> | undefined>
      return Promise.all(copies.map(async (copy, n) => copy ?? this.#source.recordAt(taken[n] as RowRef)))
    }
    for await (const { ref } of choice.index.range(bounds, choice.reverse, signal, size)) {
      refs.push(ref)
      if (refs.length < size) continue
      size = READ_AHEAD
      for (const record of await load()) if (record !== undefined) yield record
    }
    for (const record of await load()) if (record !== undefined) yield record
  }
}
