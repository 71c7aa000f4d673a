/**
 * Field names and the values compared with them are checked by TypeScript against the
 * value type a schema gives (this file is type-checked by `npm run typecheck`; each
 * `@ts-expect-error` fails the check if its line compiles). At run time it checks that the
 * same mistakes, made where types cannot see them, throw InvalidQueryError.
 */
import { type Didbase, type DocumentsDatabase, defineSchema, type Infer, InvalidQueryError, type Query, s } from '@didbase/sdk'
import { describe, expect, expectTypeOf, it } from 'vitest'
import { peer } from './src/peers.js'

const Note = defineSchema('Note', s.struct({ _id: s.string(), author: s.string(), pinned: s.bool(), meta: s.struct({ rank: s.int() }, 'Meta') }))
type NoteValue = Infer<typeof Note>

/** Never called: its body only has to type-check (or fail to, where marked). */
function typed (notes: DocumentsDatabase<NoteValue>, node: Didbase): void {
  void notes.find({ where: { 'value.author': 'did:key:z', 'value.pinned': true, 'value.meta.rank': { gte: 2 }, time: { lt: 5 } }, sort: [['value.meta.rank', 'desc'], 'key'] })
  // @ts-expect-error: no such field in the schema
  void notes.find({ where: { 'value.autor': 'x' } })
  // @ts-expect-error: a boolean field compared with a string
  void notes.find({ where: { 'value.pinned': 'yes' } })
  // @ts-expect-error: a number field's range bound given as a string
  void notes.find({ where: { 'value.meta.rank': { gt: '2' } } })
  // @ts-expect-error: time is a number
  void notes.count({ time: { gte: 'yesterday' } })
  // @ts-expect-error: sort by a field the schema does not have
  void notes.find({ sort: 'value.title' })
  // @ts-expect-error: an index on a field the schema does not have
  void node.documents('typed', { schema: Note, indexes: ['value.nope'] })
  void node.documents('typed', { schema: Note, indexes: ['value.author', ['value.pinned', 'time']] })
}

describe('query types', () => {
  it('follow the schema, and the same mistakes made at run time throw InvalidQueryError', async () => {
    expectTypeOf(typed).toBeFunction()
    expectTypeOf<Query<NoteValue>['where']>().not.toBeAny()
    const node = await peer({ memory: true })
    const notes = await node.documents('typed-notes', { schema: Note, indexes: [['value.author', 'value.meta.rank']] })
    await notes.put({ _id: 'n1', author: 'a', pinned: false, meta: { rank: 1 } })
    expect((await notes.find({ where: { 'value.meta.rank': { gte: 1 } } })).records.map((r) => r.value.meta.rank)).toEqual([1])
    await expect(notes.find({ where: JSON.parse('{"value.pinned":{"gt":[1]}}') })).rejects.toThrow(InvalidQueryError)
    await expect(notes.find(JSON.parse('{"sort":[["value.author","sideways"]]}'))).rejects.toThrow(InvalidQueryError)
  })
})
