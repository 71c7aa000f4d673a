/**
 * Which index answers a query, and which of its rows to read: the rows of records whose
 * first fields equal the query's equality conditions, within its range on the next field,
 * read in the query's order when the rest of the sort is the index's remaining fields.
 */
import { classOf } from './match.js'
import { compareBytes, encodeTuple, prefixEnd, Tag } from './order.js'
import type { Filter, Plan, Scalar } from './query.js'
import type { RowBounds, SecondaryIndex } from './indexes.js'

type Test = Extract<Filter, { kind: 'test' }>

/** What `explain` says of a query. */
export interface Explanation {
  /**
   * `index-order`: the index's rows are read in the query's order, and reading stops once
   * the page is full; `index-range`: the rows in its range are read, then sorted;
   * `scan`: every live record is read.
   */
  strategy: 'index-order' | 'index-range' | 'scan'
  /** The fields of the index used. */
  index?: readonly string[]
  /** The conditions the index's range answers; the others are checked on each record read. */
  ranged: string[]
}

/** An index chosen for a query, and how to read it. */
export interface IndexChoice {
  index: SecondaryIndex
  /** Equality conditions on the index's first fields, in its order. */
  equal: Scalar[]
  bounds: RowBounds
  /** The rows come in the query's order (reversed when `reverse`). */
  ordered: boolean
  reverse: boolean
  /** The range is exactly the filter: counting rows counts records. */
  exact: boolean
  ranged: Test[]
}

/** The conditions every record must meet (an `and` of tests, flattened), and whether that is the whole filter. */
function conjuncts (filter: Filter): { tests: Test[], whole: boolean } {
  if (filter.kind === 'test') return { tests: [filter], whole: true }
  if (filter.kind === 'or') return { tests: [], whole: filter.of.length === 0 }
  const tests: Test[] = []
  let whole = true
  for (const f of filter.of) {
    const inner = conjuncts(f)
    tests.push(...inner.tests)
    whole &&= inner.whole
  }
  return { tests, whole }
}

function equality (test: Test): Scalar | undefined {
  if (test.op === 'eq') return test.value as Scalar
  if (test.op === 'in' && (test.value as Scalar[]).length === 1) return (test.value as Scalar[])[0]
  return undefined
}

const RANGE_OPS = new Set(['lt', 'lte', 'gt', 'gte', 'prefix'])

/**
 * Past every row whose elements start with `elements`: an element is always followed by
 * another's tag (0x01 to 0x07), so 0xff is beyond them all. (Incrementing the last byte
 * instead would cut a string's rows in two: "a" ends 00, "a\0…" goes on 00 ff.)
 */
function pastElements (elements: Uint8Array): Uint8Array {
  return concat(elements, Uint8Array.of(0xff))
}

/** The rows whose tuple starts with `prefix` and whose next element meets `tests`. */
function boundsOf (prefix: Uint8Array, tests: readonly Test[]): RowBounds {
  const at = (value: Scalar): Uint8Array => concat(prefix, encodeTuple([value]))
  let gte: Uint8Array | undefined = prefix.length > 0 ? prefix : undefined
  let lt: Uint8Array | undefined = prefix.length > 0 ? pastElements(prefix) : undefined
  const raise = (b: Uint8Array | undefined): void => { if (b !== undefined && (gte === undefined || compareBytes(b, gte) > 0)) gte = b }
  const lower = (b: Uint8Array | undefined): void => { if (b !== undefined && (lt === undefined || compareBytes(b, lt) < 0)) lt = b }
  for (const { op, value } of tests) {
    const v = value as Scalar
    const cls = classOf(v)
    // Comparisons stay within the operand's class (booleans span two tags).
    const first = concat(prefix, Uint8Array.of(cls))
    const afterClass = concat(prefix, Uint8Array.of((cls === Tag.False ? Tag.True : cls) + 1))
    if (op === 'prefix') {
      // A string's bytes without its end: every string that starts with them, and no other.
      const encoded = at(v)
      const start = encoded.subarray(0, encoded.length - 1)
      raise(start)
      lower(prefixEnd(start))
    } else if (op === 'gt' || op === 'gte') {
      raise(op === 'gt' ? pastElements(at(v)) : at(v))
      lower(afterClass)
    } else {
      raise(first)
      lower(op === 'lt' ? at(v) : pastElements(at(v)))
    }
  }
  return { ...(gte !== undefined ? { gte } : {}), ...(lt !== undefined ? { lt } : {}) }
}

function concat (a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length)
  out.set(a)
  out.set(b, a.length)
  return out
}

/** The best index for `plan` among `indexes`, or undefined when none helps (then the query scans). */
export function chooseIndex (plan: Plan, indexes: readonly SecondaryIndex[]): IndexChoice | undefined {
  const { tests, whole } = conjuncts(plan.filter)
  let best: { choice: IndexChoice, score: number } | undefined
  for (const index of indexes) {
    const equal: Scalar[] = []
    const used: Test[] = []
    for (const field of index.fields) {
      const test = tests.find((t) => t.field === field && equality(t) !== undefined)
      if (test === undefined) break
      equal.push(equality(test) as Scalar)
      used.push(test)
    }
    const next = index.fields[equal.length]
    const ranged = next === undefined ? [] : tests.filter((t) => t.field === next && RANGE_OPS.has(t.op))
    const fixed = new Set(index.fields.slice(0, equal.length))
    const rest = plan.sort.filter((s) => !fixed.has(s.field))
    const wanted = [...index.fields.slice(equal.length), 'key']
    const ordered = rest.length === wanted.length && rest.every((s, i) => s.field === wanted[i] && s.desc === (rest[0]?.desc ?? false))
    if (equal.length === 0 && ranged.length === 0 && !ordered) continue
    // Selective first: an equality narrows most, a range next. Reading in the query's order
    // pays when a page stops the reading early (a limit), so it adds less than a condition
    // does: an ordered index that tests nothing would read far to fill a page of rare records.
    const score = equal.length * 100 + (ranged.length > 0 ? 70 : 0) + (ordered ? (plan.limit < Number.POSITIVE_INFINITY ? 60 : 5) : 0)
    if (best !== undefined && score <= best.score) continue
    const all = [...used, ...ranged]
    best = {
      score,
      choice: {
        index,
        equal,
        bounds: boundsOf(encodeTuple(equal), ranged),
        ordered,
        reverse: ordered && (rest[0]?.desc ?? false),
        exact: whole && tests.every((t) => all.includes(t)),
        ranged: all
      }
    }
  }
  return best?.choice
}

/** Narrow `bounds` to the rows after (before, when reversed) the row `seek`. */
export function seekBounds (bounds: RowBounds, seek: Uint8Array, reverse: boolean): RowBounds {
  if (!reverse) {
    return bounds.gte !== undefined && compareBytes(bounds.gte, seek) > 0 ? bounds : { ...(bounds.lt !== undefined ? { lt: bounds.lt } : {}), gt: seek }
  }
  return bounds.lt !== undefined && compareBytes(bounds.lt, seek) <= 0 ? bounds : { ...(bounds.gte !== undefined ? { gte: bounds.gte } : {}), lt: seek }
}

/** Say how `plan` runs with `choice`. */
export function explanationOf (choice: IndexChoice | undefined): Explanation {
  if (choice === undefined) return { strategy: 'scan', ranged: [] }
  return {
    strategy: choice.ordered ? 'index-order' : 'index-range',
    index: choice.index.fields,
    ranged: choice.ranged.map((t) => `${t.field} ${t.op} ${JSON.stringify(t.value)}`)
  }
}
