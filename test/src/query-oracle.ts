/**
 * What a query should answer, computed the plainest way, apart from the SDK's own code: a
 * filter over every record, then a sort. Property tests compare the SDK's indexed and
 * scanned pages with it. The order it encodes is the one docs/queries.md states: missing <
 * null < false < true < numbers < strings (by UTF-8 bytes) < anything else; ties by key,
 * in the direction of the last sort field.
 */
import fc from 'fast-check'

export interface OracleRecord { key: string, value: unknown, writer: string, hash: string, time?: number }
export interface OracleQuery { where: Record<string, unknown>, sort: Array<[string, 'asc' | 'desc']>, limit?: number }

function classOf (v: unknown): number {
  if (v === undefined) return 0
  if (v === null) return 1
  if (typeof v === 'boolean') return 2
  if (typeof v === 'number') return 4
  if (typeof v === 'string') return 5
  return 6
}

function rank (v: unknown): number {
  return v === false ? 2 : v === true ? 3 : classOf(v)
}

export function compare (a: unknown, b: unknown): number {
  const ra = rank(a)
  const rb = rank(b)
  if (ra !== rb) return ra - rb
  if (typeof a === 'number' && typeof b === 'number') return a - b
  if (typeof a === 'string' && typeof b === 'string') return utf8Order(a, b)
  return 0
}

const utf8 = new TextEncoder()

/** Strings by their UTF-8 bytes (also in a browser, where there is no Buffer). */
function utf8Order (a: string, b: string): number {
  const x = utf8.encode(a)
  const y = utf8.encode(b)
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return (x[i] as number) - (y[i] as number)
  return x.length - y.length
}

export function field (r: OracleRecord, f: string): unknown {
  if (f === 'key' || f === 'writer' || f === 'time' || f === 'value') return r[f]
  let at: unknown = r.value
  for (const part of f.slice(6).split('.')) at = at !== null && typeof at === 'object' && !Array.isArray(at) && Object.hasOwn(at, part) ? (at as Record<string, unknown>)[part] : undefined
  return at
}

function holds (v: unknown, op: string, x: unknown): boolean {
  const eq = (y: unknown): boolean => rank(v) === rank(y) && compare(v, y) === 0
  switch (op) {
    case 'eq': return eq(x)
    case 'ne': return !eq(x)
    case 'in': return (x as unknown[]).some(eq)
    case 'prefix': return typeof v === 'string' && v.startsWith(x as string)
    case 'exists': return (v !== undefined) === x
  }
  if (classOf(v) !== classOf(x)) return false
  const c = compare(v, x)
  return op === 'lt' ? c < 0 : op === 'lte' ? c <= 0 : op === 'gt' ? c > 0 : c >= 0
}

export function passes (r: OracleRecord, where: Record<string, unknown>): boolean {
  return Object.entries(where).every(([name, cond]) => {
    if (name === 'and') return (cond as Array<Record<string, unknown>>).every((w) => passes(r, w))
    if (name === 'or') return (cond as Array<Record<string, unknown>>).some((w) => passes(r, w))
    if (cond === null || typeof cond !== 'object') return holds(field(r, name), 'eq', cond)
    return Object.entries(cond).every(([op, x]) => holds(field(r, name), op, x))
  })
}

/** Every record the query selects, in its order. */
export function answer (records: readonly OracleRecord[], q: OracleQuery): OracleRecord[] {
  const lastDesc = q.sort.at(-1)?.[1] === 'desc'
  const sort = q.sort.some(([f]) => f === 'key') ? q.sort.slice(0, q.sort.findIndex(([f]) => f === 'key') + 1) : [...q.sort, ['key', lastDesc ? 'desc' : 'asc'] as [string, 'asc' | 'desc']]
  return records.filter((r) => passes(r, q.where)).sort((a, b) => {
    for (const [f, dir] of sort) {
      const c = compare(field(a, f), field(b, f))
      if (c !== 0) return dir === 'desc' ? -c : c
    }
    return 0
  })
}

/** Values that exercise the order: numbers of both signs, strings with zero bytes and astral characters, every class. */
export const scalars = fc.oneof(
  fc.integer({ min: -3, max: 3 }),
  fc.constantFrom(-0.5, 2.5, 1e21, -1e-7),
  fc.constantFrom('', 'a', 'ab', 'b', 'a\u0000', 'a\u0000z', '\u0000', 'a\u0001', '\uffff', '\u{1f600}', 'é'),
  fc.boolean(),
  fc.constant(null)
)

/** A document's value: `n` and `tag` of any class (or missing), `flag` a boolean or null (or missing), sometimes a nested field. */
export const docValue = fc.record({
  n: scalars,
  tag: scalars,
  flag: fc.oneof(fc.boolean(), fc.constant(null)),
  meta: fc.record({ rank: fc.integer({ min: 0, max: 3 }) })
}, { requiredKeys: [] })

const FIELDS = ['value.n', 'value.tag', 'value.flag', 'value.meta.rank', 'key', 'writer', 'time'] as const

const condition: fc.Arbitrary<unknown> = fc.oneof(
  scalars,
  fc.record({ eq: scalars }),
  fc.record({ ne: scalars }),
  fc.record({ lt: scalars, gte: scalars }, { requiredKeys: [] }),
  fc.record({ gt: scalars, lte: scalars }, { requiredKeys: [] }),
  fc.record({ in: fc.array(scalars, { minLength: 1, maxLength: 3 }) }),
  fc.record({ prefix: fc.constantFrom('', 'a', 'a\u0000', '\u{1f600}', 'k1') }),
  fc.record({ exists: fc.boolean() })
)

const simpleWhere = fc.dictionary(fc.constantFrom(...FIELDS), condition, { maxKeys: 2 })

export const where: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
  { weight: 3, arbitrary: simpleWhere },
  { weight: 1, arbitrary: fc.record({ or: fc.array(simpleWhere, { minLength: 1, maxLength: 2 }) }) }
)

export const sort = fc.uniqueArray(fc.tuple(fc.constantFrom(...FIELDS), fc.constantFrom('asc' as const, 'desc' as const)), { maxLength: 2, selector: ([f]) => f })

export const query: fc.Arbitrary<OracleQuery> = fc.record({ where, sort, limit: fc.option(fc.integer({ min: 1, max: 7 }), { nil: undefined }) }, { requiredKeys: ['where', 'sort'] })

/** The indexes the property tests declare: single, compound, on record fields and on nested ones. */
export const INDEXES = [['value.n'], ['value.tag', 'value.n'], ['writer', 'time'], ['value.flag'], ['value.meta.rank', 'value.tag']] as const
/** Few keys, so that writes overwrite and delete each other's records. */
export const KEYS = ['k0', 'k1', 'k2', 'k3', 'k4', 'k5', 'k6'] as const

export type DocValue = Record<string, unknown>
/** A write on one of two replicas (`a` or `b`), or a step between writes. */
export type Step =
  | { kind: 'put', on: 'a' | 'b', key: string, value: DocValue }
  | { kind: 'del', on: 'a' | 'b', key: string }
  | { kind: 'batch', on: 'a' | 'b', puts: Array<[string, DocValue]>, dels: string[] }
  | { kind: 'sync' }
  | { kind: 'reopen' }

const side = fc.constantFrom('a' as const, 'b' as const)

/** Puts, deletes and batches from either replica, syncs between them, and reopens of the database. */
export const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('put' as const), on: side, key: fc.constantFrom(...KEYS), value: docValue }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('del' as const), on: side, key: fc.constantFrom(...KEYS) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('batch' as const), on: side, puts: fc.array(fc.tuple(fc.constantFrom(...KEYS), docValue), { minLength: 1, maxLength: 4 }), dels: fc.uniqueArray(fc.constantFrom(...KEYS), { maxLength: 2 }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'sync' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'reopen' as const }) }
)
