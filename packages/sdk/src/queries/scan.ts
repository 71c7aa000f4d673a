/**
 * A query answered by reading every live record: what a query means, and how one without a
 * fitting index runs (index.ts answers the same, faster).
 */
import { decodeCursor, encodeCursor } from './cursor.js'
import { compareSortValues, matches, sortValuesOf } from './match.js'
import type { Page, Plan, QueryRecord } from './query.js'

interface Sorted<T> { record: QueryRecord<T>, values: unknown[] }

/** The page `plan` asks for, out of `records`. */
export async function scanPage<T> (records: AsyncIterable<QueryRecord<T>>, plan: Plan): Promise<Page<T>> {
  const after = plan.after === undefined ? undefined : decodeCursor(plan.sort, plan.after)
  const hits: Array<Sorted<T>> = []
  for await (const record of records) {
    if (!matches(plan.filter, record)) continue
    const values = sortValuesOf(record, plan.sort)
    if (after !== undefined && compareSortValues(plan.sort, values, after) <= 0) continue
    hits.push({ record, values })
  }
  hits.sort((a, b) => compareSortValues(plan.sort, a.values, b.values))
  return pageOf(hits, plan)
}

/** The first `plan.limit` of `hits` (in order), with a cursor when more follow. */
export function pageOf<T> (hits: ReadonlyArray<Sorted<T>>, plan: Plan): Page<T> {
  const taken = hits.length > plan.limit ? hits.slice(0, plan.limit) : hits
  const last = taken.at(-1)
  return {
    records: taken.map((h) => h.record),
    ...(hits.length > plan.limit && last !== undefined ? { cursor: encodeCursor(plan.sort, last.values) } : {})
  }
}

/** How many of `records` pass `plan`'s filter. */
export async function scanCount (records: AsyncIterable<QueryRecord<unknown>>, plan: Plan): Promise<number> {
  let n = 0
  for await (const record of records) if (matches(plan.filter, record)) n++
  return n
}
