/**
 * What a query says, typed against the records' value type, and its checked form.
 *
 * A query names fields of a record as paths: `key`, `writer`, `time`, `value`, or a field of
 * the value (`value.author`, `value.meta.tag`). It filters them (`where`), sorts by them
 * (`sort`, then always by `key`), takes `limit` records and goes on `after` a cursor.
 */
import { InvalidQueryError } from '../errors.js'
import { isField, MAX_PATH_PARTS } from './field-names.js'

/** A value a filter compares with. */
export type Scalar = string | number | boolean | null

/** A live record as a query returns it. */
export interface QueryRecord<T> {
  key: string
  value: T
  /** The DID that wrote it. */
  writer: string
  /** The entry that holds it. */
  hash: string
  /** Its writer's signed time (ms since 1970), when the entry carries one. See docs/writes.md. */
  time?: number
}

type Depth = [never, 0, 1, 2, 3]

/** Paths of the fields of `T` (objects only, not arrays), to three levels. */
type PathsOf<T, D extends number = 3> = unknown extends T
  ? string
  : [D] extends [never]
    ? never
    : T extends readonly unknown[]
      ? never
      : T extends object
        ? { [K in keyof T & string]: K | (NonNullable<T[K]> extends readonly unknown[] ? never : NonNullable<T[K]> extends object ? `${K}.${PathsOf<NonNullable<T[K]>, Depth[D]>}` : never) }[keyof T & string]
        : never

type ValueAt<T, P extends string> = P extends `${infer Head}.${infer Rest}`
  ? Head extends keyof NonNullable<T> ? ValueAt<NonNullable<T>[Head], Rest> : unknown
  : P extends keyof NonNullable<T> ? NonNullable<T>[P] : unknown

/** A field of a record a query can filter and sort on. */
export type Field<T> = 'key' | 'writer' | 'time' | 'value' | `value.${PathsOf<T>}`

/** The type of `F` in a record of values `T`. */
export type FieldType<T, F extends string> = F extends 'key' | 'writer' ? string
  : F extends 'time' ? number
    : F extends 'value' ? T
      : F extends `value.${infer P}` ? ValueAt<T, P> : never

/** What a filter may compare a field of type `V` with: its scalar part, or any scalar when it has none. */
type Comparable<V> = [Extract<V, Scalar>] extends [never] ? Scalar : Extract<V, Scalar>

/** Tests of one field; several in one object must all hold. */
export interface Operators<V> {
  eq?: V
  ne?: V
  lt?: V
  lte?: V
  gt?: V
  gte?: V
  in?: readonly V[]
  /** A string that starts with this. */
  prefix?: string
  /** Whether the field is there (`null` is). */
  exists?: boolean
}

/** A field's condition: a value it equals, or operators. */
export type Condition<V> = Comparable<V> | Operators<Comparable<V>>

/** Conditions on fields, all of which hold; `and` and `or` combine further filters. */
export type Where<T> = { [F in Field<T>]?: Condition<FieldType<T, F>> } & {
  and?: ReadonlyArray<Where<T>>
  or?: ReadonlyArray<Where<T>>
}

/** A field to sort by, ascending, or with its direction. */
export type SortKey<T> = Field<T> | readonly [Field<T>, 'asc' | 'desc']

export interface Query<T> {
  where?: Where<T>
  /** Sort by these fields in turn, then by `key` (in the last field's direction). Default: by `key`. */
  sort?: SortKey<T> | ReadonlyArray<SortKey<T>>
  /** At most this many records. */
  limit?: number
  /** Go on after the last record of a page: its `cursor`. */
  after?: string
}

/** One page of records and, when more may follow, the cursor that goes on after it. */
export interface Page<T> {
  records: Array<QueryRecord<T>>
  cursor?: string
}

export type Operator = 'eq' | 'ne' | 'lt' | 'lte' | 'gt' | 'gte' | 'in' | 'prefix' | 'exists'

/** A checked filter. */
export type Filter =
  | { kind: 'and' | 'or', of: Filter[] }
  | { kind: 'test', field: string, op: Exclude<Operator, 'in'>, value: Scalar }
  | { kind: 'test', field: string, op: 'in', value: Scalar[] }

export interface SortField { field: string, desc: boolean }

/** A checked query. */
export interface Plan {
  filter: Filter
  sort: SortField[]
  limit: number
  after: string | undefined
}

const OPERATORS = new Set<string>(['eq', 'ne', 'lt', 'lte', 'gt', 'gte', 'in', 'prefix', 'exists'])
/**
 * Bounds on a query's size, since a query is data a URL or a command line may hand over:
 * values in an `in`; filters, conditions and `in` values in all; sort fields (field paths:
 * field-names.ts).
 */
export const MAX_IN = 1_000
const MAX_TERMS = 5_000
const MAX_SORT_FIELDS = 16

export function assertField (field: unknown): asserts field is string {
  if (!isField(field)) {
    throw new InvalidQueryError(`unknown field ${JSON.stringify(typeof field === 'string' ? field.slice(0, 80) : field)}: use key, writer, time, value or value.<field> (at most ${MAX_PATH_PARTS} parts)`)
  }
}

function isScalar (value: unknown): value is Scalar {
  return value === null || typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value))
}

function assertScalar (field: string, op: string, value: unknown): asserts value is Scalar {
  if (!isScalar(value)) throw new InvalidQueryError(`${field} ${op}: compare with a string, a finite number, a boolean or null, not ${JSON.stringify(value) ?? String(value)}`)
}

function isPlainObject (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Check a `where` and give its filter. */
export function filterOf (where: unknown): Filter {
  let terms = 0
  const spend = (n: number): void => {
    terms += n
    if (terms > MAX_TERMS) throw new InvalidQueryError(`where: more than ${MAX_TERMS} filters, conditions and values in all`)
  }
  const walk = (node: unknown): Filter => {
    spend(1)
    if (!isPlainObject(node)) throw new InvalidQueryError('where: an object of fields and conditions')
    const of: Filter[] = []
    for (const [name, condition] of Object.entries(node)) {
      if (condition === undefined) continue
      spend(1)
      if (name === 'and' || name === 'or') {
        if (!Array.isArray(condition)) throw new InvalidQueryError(`where.${name}: a list of filters`)
        of.push({ kind: name, of: condition.map(walk) })
        continue
      }
      assertField(name)
      if (!isPlainObject(condition)) {
        assertScalar(name, 'eq', condition)
        of.push({ kind: 'test', field: name, op: 'eq', value: condition })
        continue
      }
      for (const [op, value] of Object.entries(condition)) {
        if (value === undefined) continue
        spend(1)
        if (!OPERATORS.has(op)) throw new InvalidQueryError(`${name}: unknown operator ${JSON.stringify(op)} (use ${[...OPERATORS].join(', ')})`)
        if (op === 'in') {
          if (!Array.isArray(value) || value.length > MAX_IN) throw new InvalidQueryError(`${name} in: a list of at most ${MAX_IN} values`)
          spend(value.length)
          for (const v of value) assertScalar(name, op, v)
          of.push({ kind: 'test', field: name, op, value: [...value] as Scalar[] })
        } else if (op === 'prefix') {
          if (typeof value !== 'string') throw new InvalidQueryError(`${name} prefix: a string`)
          of.push({ kind: 'test', field: name, op, value })
        } else if (op === 'exists') {
          if (typeof value !== 'boolean') throw new InvalidQueryError(`${name} exists: true or false`)
          of.push({ kind: 'test', field: name, op, value })
        } else {
          assertScalar(name, op, value)
          of.push({ kind: 'test', field: name, op: op as Exclude<Operator, 'in'>, value })
        }
      }
    }
    return of.length === 1 ? of[0] as Filter : { kind: 'and', of }
  }
  return walk(where ?? {})
}

/** Check a `sort`: the fields in turn, each once. */
export function sortOf (sort: unknown): SortField[] {
  if (sort === undefined) return []
  const keys = typeof sort === 'string' || (Array.isArray(sort) && sort.length === 2 && (sort[1] === 'asc' || sort[1] === 'desc') && typeof sort[0] === 'string' && !['asc', 'desc'].includes(sort[0])) ? [sort] : sort
  if (!Array.isArray(keys)) throw new InvalidQueryError('sort: a field, [field, "asc" | "desc"], or a list of them')
  if (keys.length > MAX_SORT_FIELDS) throw new InvalidQueryError(`sort: at most ${MAX_SORT_FIELDS} fields`)
  const fields: SortField[] = []
  const seen = new Set<string>()
  for (const key of keys) {
    const [field, direction] = typeof key === 'string' ? [key, 'asc'] : Array.isArray(key) ? key : [undefined, undefined]
    assertField(field)
    if (direction !== 'asc' && direction !== 'desc') throw new InvalidQueryError(`sort ${field}: "asc" or "desc"`)
    if (seen.has(field)) throw new InvalidQueryError(`sort: ${field} twice`)
    seen.add(field)
    fields.push({ field, desc: direction === 'desc' })
  }
  return fields
}

/** Check a whole query. */
export function planOf (query: Query<unknown> | undefined): Plan {
  if (query !== undefined && !isPlainObject(query)) throw new InvalidQueryError('a query is an object: { where, sort, limit, after }')
  const q: Query<unknown> = query ?? {}
  const limit = q.limit ?? Number.POSITIVE_INFINITY
  if (limit !== Number.POSITIVE_INFINITY && (!Number.isSafeInteger(limit) || limit < 1)) throw new InvalidQueryError(`limit: a whole number from 1, not ${String(q.limit)}`)
  if (q.after !== undefined && typeof q.after !== 'string') throw new InvalidQueryError('after: a cursor from a page')
  const sort = sortOf(q.sort)
  // `key` decides among equals, and it is unique: nothing after it matters.
  const byKey = sort.findIndex((s) => s.field === 'key')
  // Ties are broken by key, in the direction of the last sort field, so that one index read one way serves the sort.
  return { filter: filterOf(q.where), sort: byKey < 0 ? [...sort, { field: 'key', desc: sort.at(-1)?.desc ?? false }] : sort.slice(0, byKey + 1), limit, after: q.after }
}

const paths = new Map<string, string[]>()

/** The parts of `value.<path>`, split once per field (a scan reads it for every record). */
function pathOf (field: string): string[] {
  let parts = paths.get(field)
  if (parts === undefined) {
    if (paths.size >= 1_000) paths.clear()
    parts = field.slice('value.'.length).split('.')
    paths.set(field, parts)
  }
  return parts
}

/** The value of `field` in `record` (undefined when it is missing). */
export function fieldOf (record: QueryRecord<unknown>, field: string): unknown {
  if (field === 'key') return record.key
  if (field === 'writer') return record.writer
  if (field === 'time') return record.time
  if (field === 'value') return record.value
  let at: unknown = record.value
  for (const part of pathOf(field)) {
    if (!isPlainObject(at)) return undefined
    at = Object.hasOwn(at, part) ? at[part] : undefined
  }
  return at
}
