/**
 * Whether a record passes a filter, and where it sorts: the meaning of a query, which an
 * index only finds faster (index.ts is tested against this).
 */
import { compareValues, Tag, tagOf } from './order.js'
import { type Filter, fieldOf, type QueryRecord, type Scalar, type SortField } from './query.js'

/** Comparisons (lt, gt…) hold between values of one class: numbers with numbers, strings with strings, booleans, null. */
export function classOf (value: unknown): number {
  const tag = tagOf(value)
  return tag === Tag.True ? Tag.False : tag
}

function equal (a: unknown, b: Scalar): boolean {
  return tagOf(a) === tagOf(b) && compareValues(a, b) === 0
}

function test (value: unknown, op: string, operand: Scalar | Scalar[]): boolean {
  switch (op) {
    case 'eq': return equal(value, operand as Scalar)
    case 'ne': return !equal(value, operand as Scalar)
    case 'in': return (operand as Scalar[]).some((v) => equal(value, v))
    case 'prefix': return typeof value === 'string' && value.startsWith(operand as string)
    case 'exists': return (value !== undefined) === operand
  }
  if (classOf(value) !== classOf(operand)) return false
  const order = compareValues(value, operand)
  switch (op) {
    case 'lt': return order < 0
    case 'lte': return order <= 0
    case 'gt': return order > 0
    default: return order >= 0
  }
}

export function matches (filter: Filter, record: QueryRecord<unknown>): boolean {
  if (filter.kind !== 'test') return filter.kind === 'and' ? filter.of.every((f) => matches(f, record)) : filter.of.some((f) => matches(f, record))
  return test(fieldOf(record, filter.field), filter.op, filter.value)
}

/** The values a record sorts by, in turn (the last is its key). */
export function sortValuesOf (record: QueryRecord<unknown>, sort: readonly SortField[]): unknown[] {
  return sort.map(({ field }) => fieldOf(record, field))
}

/** Order of two records' sort values: negative when `a` comes first. */
export function compareSortValues (sort: readonly SortField[], a: readonly unknown[], b: readonly unknown[]): number {
  for (let i = 0; i < sort.length; i++) {
    const order = compareValues(a[i], b[i])
    if (order !== 0) return (sort[i] as SortField).desc ? -order : order
  }
  return 0
}
