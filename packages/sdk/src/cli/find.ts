/**
 * `didbase find`: the query find-args.ts read from the flags, checked by the SDK before a
 * node starts, then run on the database (`find`, `count` or `explain`) and printed once
 * the node has stopped, so that a query that fails prints nothing.
 */
import { decodeCursor } from '../queries/cursor.js'
import type { Explanation } from '../queries/planner.js'
import { filterOf, type Page, planOf, type Query } from '../queries/query.js'
import { indexFieldsOf, type IndexFields, type RecordDatabase } from '../databases/records.js'
import type { DocumentsDatabase } from '../databases/documents.js'
import type { EventLogDatabase } from '../databases/eventlog.js'
import type { KeyValueDatabase } from '../databases/keyvalue.js'
import { InvalidQueryError } from '../errors.js'
import type { Command, CommandLine } from './args.js'
import { UsageError } from './errors.js'
import { print } from './output.js'

export type FindCommand = Extract<Command, { name: 'find' }>

export type FindResult =
  | { mode: 'page', page: Page<unknown> }
  | { mode: 'count', count: number }
  | { mode: 'explain', explanation: Explanation }

/**
 * Everything the SDK would refuse once the database is open, refused now: what a
 * --where-json says (named in the message), the query as a whole, a cursor of another sort,
 * the indexes.
 */
export function checkFind (command: FindCommand): void {
  for (const filter of command.whereJson) {
    try {
      filterOf(filter)
    } catch (err) {
      if (err instanceof InvalidQueryError) throw new InvalidQueryError(`--where-json ${JSON.stringify(filter)}: ${err.message}`)
      throw err
    }
  }
  const plan = planOf(command.query as Query<unknown>)
  if (plan.after !== undefined) decodeCursor(plan.sort, plan.after)
  indexFieldsOf(command.indexes as ReadonlyArray<IndexFields<unknown>>)
}

/** Run the query on an open database. */
export async function runFind (command: FindCommand, db: KeyValueDatabase | DocumentsDatabase | EventLogDatabase): Promise<FindResult> {
  if (db.type === 'events') throw new UsageError(`${command.address} is an event log; find works on key-value and document databases (use: didbase list)`)
  const records = db as RecordDatabase<unknown>
  const query = command.query as Query<unknown>
  if (command.mode === 'count') return { mode: 'count', count: await records.count(query.where) }
  if (command.mode === 'explain') return { mode: 'explain', explanation: records.explain(query) }
  return { mode: 'page', page: await records.find(query) }
}

/**
 * A page: one JSON record a line on stdout, and when more follow, the cursor on stderr (with
 * `--json` as `{"cursor"}`), beside the records rather than among them, as `sync --json`
 * reports its progress. A count and a plan: one line, or one JSON object.
 */
export function printFind (cli: CommandLine, result: FindResult): void {
  if (result.mode === 'count') {
    print(cli, String(result.count), { count: result.count })
    return
  }
  if (result.mode === 'explain') {
    const { strategy, index, ranged } = result.explanation
    const how = {
      'index-order': 'reads the index in the query\'s order, and stops once the page is full',
      'index-range': 'reads the index\'s rows in range, then sorts the records',
      scan: 'reads every record (an --index on the fields the query tests or sorts by may help)'
    }[strategy]
    const lines = [`${strategy}${index !== undefined ? ` on ${index.join(', ')}` : ''}: ${how}`]
    if (ranged.length > 0) lines.push(`the index answers: ${ranged.join('; ')}; any other condition is checked on each record read`)
    print(cli, lines.join('\n'), result.explanation)
    return
  }
  const { records, cursor } = result.page
  for (const { key, value, writer, hash, time } of records) console.log(JSON.stringify({ key, value, writer, hash, time }))
  if (cursor !== undefined) console.error(cli.flags.json ? JSON.stringify({ cursor }) : `more: --after ${cursor}`)
}
