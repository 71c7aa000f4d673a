/**
 * `didbase find`: its flags read into the shape of the SDK's query API (queries/query.ts)
 * without importing it (only its field names, field-names.ts), so that a malformed --where, --sort, --limit or --index is a usage
 * error found before a node starts (see args.ts). The SDK checks the whole query again, and
 * alone checks what --where-json says (find.ts, still before a node starts).
 */
import { isField } from '../queries/field-names.js'
import { UsageError } from './errors.js'

export const FIND_USAGE = `didbase find <address> [options]

  The records of a key-value or document database that match, sorted, a page at a time:
  one JSON object a line on stdout, {"key","value","writer","hash","time"} (time when the
  entry carries one). When more records follow, the next page's cursor goes to stderr:
  "more: --after <cursor>", or with --json {"cursor":"<cursor>"}; stdout holds records only.

  --where EXPR           a condition; repeat it, and every one must hold:
                           FIELD=VALUE  FIELD!=VALUE  FIELD<VALUE  FIELD<=VALUE  FIELD>VALUE  FIELD>=VALUE
                           FIELD^=TEXT      starts with TEXT
                           FIELD in A,B,C   equals one of them; FIELD in ["a,b","c"] takes a JSON list
                           FIELD?           is there (null counts);  !FIELD?  is not there
  --where-json JSON      a filter in the SDK's shape, and-ed with the --where conditions, e.g.
                           '{"or":[{"value.tag":"urgent"},{"time":{"gte":1714521600000}}]}'
  --sort FIELD,...       sort by these fields in turn (-FIELD descending), then by key; repeatable
  --limit N              at most N records
  --after CURSOR         the next page: the cursor the last page gave (same --where and --sort)
  --count                print how many records match, nothing else (no --sort, --limit, --after)
  --explain              print how the query would run: the index it reads, the conditions that
                         index answers (the others are checked on each record read); runs nothing
  --index FIELD[,FIELD]  declare an index on these fields (sorted by each in turn) for this run;
                         repeatable. Declaring it builds it from the records, or brings up to date
                         the rows an earlier run that declared it left in --dir
  --dir, --peer, --json  as for every command

  FIELD   key, writer, time (the writer's signed time, ms since 1970), value, or value.<path>
          (value.author, value.meta.tag); a field whose name has = < > ! ^ ? or spaces: --where-json
  VALUE   JSON when it parses (42, -1.5, true, false, null, "a quoted string"), else the text as
          it is. key and writer always compare as text; time also takes an ISO date or time
          (2024-05-01, 2024-05-01T12:00:00Z). Quote JSON to keep a string that looks like
          something else ('value.code="42"') or its spaces

  A bad query exits 1 and prints nothing on stdout.

examples:
  didbase find "$ADDR" --where 'value.author=did:key:z6Mk…' --sort -time --limit 20
  didbase find "$ADDR" --where 'value.author=did:key:z6Mk…' --sort -time --limit 20 --after <cursor>
  didbase find "$ADDR" --where 'time>=2024-05-01' --where 'value.tag in work,home' --count
  didbase find "$ADDR" --where '!value.done?' --index value.author,time --explain`

export type Direction = 'asc' | 'desc'

/** A query in the shape of the SDK's `Query` (checked by it again before it runs). */
export interface FindQuery {
  where?: Record<string, unknown>
  sort?: Array<[string, Direction]>
  limit?: number
  after?: string
}

/** `page`: print the records; `count`: how many match; `explain`: how the query would run. */
export type FindMode = 'page' | 'count' | 'explain'

export interface FindArgs {
  query: FindQuery
  /** Each --where-json filter as given (also in `query.where`), so that the SDK's complaint about one can name it. */
  whereJson: Array<Record<string, unknown>>
  mode: FindMode
  /** Indexes to declare for this run, each a list of fields. */
  indexes: string[][]
}

/** The flags of `find` (and only of `find`). */
export interface FindFlags {
  where?: string[] | undefined
  'where-json'?: string[] | undefined
  sort?: string[] | undefined
  limit?: string | undefined
  after?: string | undefined
  count?: boolean | undefined
  explain?: boolean | undefined
  index?: string[] | undefined
}

/** The flags only `find` takes, for a check that no other command is given one. */
export const FIND_FLAGS = ['where', 'where-json', 'sort', 'limit', 'after', 'count', 'explain', 'index'] as const

/**
 * The value flags of `find` whose value may start with a dash (`--sort -time`): Node's
 * parseArgs takes that for a missing value, so the two are joined (`--sort=-time`) first.
 */
const DASH_VALUES = new Set(['--sort', '--limit', '--after', '--where'])

/** `argv` with `--sort -time` written `--sort=-time` (up to a `--`). */
export function joinDashValues (argv: readonly string[]): string[] {
  const out: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string
    if (arg === '--') {
      out.push(...argv.slice(i))
      break
    }
    const next = argv[i + 1]
    if (DASH_VALUES.has(arg) && next !== undefined && /^-[^-]/.test(next)) {
      out.push(`${arg}=${next}`)
      i++
    } else {
      out.push(arg)
    }
  }
  return out
}

function fail (message: string): never {
  throw new UsageError(message, FIND_USAGE)
}

/** A field a query may name, by the SDK's own rule; a typo is caught before a node starts, with a hint when a field of the value was meant. */
function field (text: string, flag: string): string {
  if (isField(text)) return text
  const hint = text.length > 0 && !text.startsWith('value') && !text.startsWith('.') ? ` (a field of the value? value.${text})` : ''
  return fail(`${flag}: unknown field ${JSON.stringify(text)}; use key, writer, time, value or value.<path>${hint}`)
}

type Scalar = string | number | boolean | null

const DATE = /^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/

/**
 * VALUE of `--where`: JSON when it parses, else the text itself. `key` and `writer` are
 * text whatever it looks like (`text`: so is a prefix), and `time` also takes an ISO date.
 */
function scalar (name: string, raw: string, flag: string, text = false): Scalar {
  const given = raw.trim()
  let value: unknown = given
  try {
    value = JSON.parse(given)
  } catch {}
  if (typeof value === 'string' && name === 'time' && !text) {
    const ms = value === given && DATE.test(given) ? Date.parse(given) : Number.NaN
    return Number.isFinite(ms) ? ms : fail(`${flag}: time takes ms since 1970 or an ISO date or time (2024-05-01, 2024-05-01T12:00:00Z), not ${given}`)
  }
  if (typeof value === 'string') return value
  if (text || name === 'key' || name === 'writer') return given
  if (value === null || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value))) return value
  return fail(`${flag}: compare ${name} with a string, a number, true, false or null, not ${given} (quote a string that looks like JSON: '"${given.replaceAll('"', '\\"')}"')`)
}

/** The values of `FIELD in …`: a JSON list, or values separated by commas. */
function scalars (name: string, raw: string, flag: string): Scalar[] {
  const given = raw.trim()
  if (given.startsWith('[')) {
    let list: unknown
    try {
      list = JSON.parse(given)
    } catch {
      return fail(`${flag}: ${given} is not a JSON list; write the values with commas between them, or as JSON: ["a","b"]`)
    }
    if (!Array.isArray(list)) return fail(`${flag}: ${given} is not a list`)
    return list.map((v) => scalar(name, JSON.stringify(v), flag))
  }
  return given.split(',').map((v) => scalar(name, v, flag))
}

const FIELD = String.raw`[^\s=!<>^?]+`
const IN = new RegExp(String.raw`^(${FIELD})\s+in\s+(\S[\s\S]*)$`)
const COMPARE = new RegExp(String.raw`^(${FIELD})\s*(!=|<=|>=|\^=|=|<|>)([\s\S]*)$`)
const EXISTS = new RegExp(String.raw`^(!?)(${FIELD})\?$`)
const OPERATORS = { '=': 'eq', '!=': 'ne', '<': 'lt', '<=': 'lte', '>': 'gt', '>=': 'gte', '^=': 'prefix' } as const

interface Condition { field: string, op: string, value: unknown }

/** One `--where EXPR`. */
export function condition (expr: string): Condition {
  const text = expr.trim()
  const flag = `--where '${expr}'`
  let m = IN.exec(text)
  if (m !== null) {
    const name = field(m[1] as string, flag)
    return { field: name, op: 'in', value: scalars(name, m[2] as string, flag) }
  }
  m = COMPARE.exec(text)
  if (m !== null) {
    const name = field(m[1] as string, flag)
    const op = OPERATORS[m[2] as keyof typeof OPERATORS]
    return { field: name, op, value: scalar(name, m[3] as string, flag, op === 'prefix') }
  }
  m = EXISTS.exec(text)
  if (m !== null) return { field: field(m[2] as string, flag), op: 'exists', value: m[1] !== '!' }
  return fail(`${flag}: not a condition; write FIELD=VALUE, FIELD!=VALUE, FIELD<VALUE, FIELD<=VALUE, FIELD>VALUE, FIELD>=VALUE, FIELD^=TEXT, FIELD in A,B, FIELD? (is there) or !FIELD? (is not)`)
}

/** The conditions and-ed, one field's tests merged into one object where they do not clash: `{ time: { gte: 1, lt: 2 } }`. */
function whereOf (conditions: readonly Condition[], filters: ReadonlyArray<Record<string, unknown>>): Record<string, unknown> | undefined {
  const where: Record<string, unknown> = {}
  const and: Array<Record<string, unknown>> = []
  for (const { field: name, op, value } of conditions) {
    const alone = op === 'eq' ? value : { [op]: value }
    const held = where[name]
    if (!Object.hasOwn(where, name)) {
      where[name] = alone
      continue
    }
    const ops = typeof held === 'object' && held !== null ? held as Record<string, unknown> : { eq: held }
    if (Object.hasOwn(ops, op)) and.push({ [name]: alone })
    else where[name] = { ...ops, [op]: value }
  }
  and.push(...filters)
  if (Object.keys(where).length === 0 && and.length <= 1) return and[0]
  return and.length === 0 ? where : { ...where, and }
}

/** `--sort a,-b --sort c`: fields in turn, each with its direction. */
function sortOf (flags: readonly string[]): Array<[string, Direction]> {
  const sort: Array<[string, Direction]> = []
  for (const item of flags.flatMap((f) => f.split(','))) {
    const text = item.trim()
    const flag = `--sort ${text}`
    if (text === '') fail('--sort: an empty field; give fields with commas between them: --sort -time,value.title')
    const desc = text.startsWith('-')
    const name = field(/^[+-]/.test(text) ? text.slice(1) : text, flag)
    if (sort.some(([f]) => f === name)) fail(`--sort: ${name} twice`)
    sort.push([name, desc ? 'desc' : 'asc'])
  }
  return sort
}

/** `--index a,b --index c`: the fields of each index. */
function indexesOf (flags: readonly string[]): string[][] {
  return flags.map((text) => {
    const flag = `--index ${text}`
    const fields = text.split(',').map((f) => field(f.trim(), flag))
    if (fields.includes('key')) fail(`${flag}: every index is sorted by key last already; leave key out`)
    if (new Set(fields).size !== fields.length) fail(`${flag}: a field twice`)
    return fields
  })
}

function filterJson (text: string): Record<string, unknown> {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return fail(`--where-json must be JSON, e.g. '{"value.done":false}' (got ${text})`)
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail(`--where-json must be an object of fields and conditions, e.g. '{"time":{"gte":0}}' (got ${text})`)
  return value as Record<string, unknown>
}

/** The flags of `didbase find`, checked; throws UsageError naming the flag at fault. */
export function findArgs (flags: FindFlags): FindArgs {
  const count = flags.count === true
  const explain = flags.explain === true
  if (count && explain) fail('--count or --explain, not both')
  if (count) {
    const paged = (['sort', 'limit', 'after'] as const).filter((f) => flags[f] !== undefined)
    if (paged.length > 0) fail(`--count counts every record that matches: leave out ${paged.map((f) => `--${f}`).join(', ')}`)
  }
  let limit: number | undefined
  if (flags.limit !== undefined) {
    limit = /^\d+$/.test(flags.limit) ? Number(flags.limit) : Number.NaN
    if (!Number.isSafeInteger(limit) || limit < 1) fail(`--limit takes a whole number from 1 (got ${flags.limit})`)
  }
  if (flags.after === '') fail('--after takes the cursor a page gave')
  const whereJson = (flags['where-json'] ?? []).map(filterJson)
  const where = whereOf((flags.where ?? []).map(condition), whereJson)
  const sort = sortOf(flags.sort ?? [])
  return {
    query: {
      ...(where !== undefined ? { where } : {}),
      ...(sort.length > 0 ? { sort } : {}),
      ...(limit !== undefined ? { limit } : {}),
      ...(flags.after !== undefined ? { after: flags.after } : {})
    },
    whereJson,
    mode: count ? 'count' : explain ? 'explain' : 'page',
    indexes: indexesOf(flags.index ?? [])
  }
}
