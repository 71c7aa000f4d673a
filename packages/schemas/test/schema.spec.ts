import * as dagCbor from '@ipld/dag-cbor'
import { CID } from 'multiformats/cid'
import { describe, expect, expectTypeOf, it } from 'vitest'
import { defineSchema, InvalidSchemaError, s, SchemaValidationError, schemaFromDocument, schemaFromDSL } from '../src/index.js'
import { todoBuilt, todoFromDsl, validTodo } from './fixtures.js'

const message = (schema: { read: (v: unknown) => unknown }, value: unknown): string => {
  const result = schema.read(value) as { error?: Error }
  return result.error?.message ?? 'ok'
}

describe('canonical schemas', () => {
  it('the DSL and the builder give the same bytes and the same CID for the same shape', async () => {
    expect(todoBuilt.dmt).toEqual(todoFromDsl.dmt)
    expect(todoBuilt.bytes).toEqual(todoFromDsl.bytes)
    expect((await todoBuilt.cid()).toString()).toBe((await todoFromDsl.cid()).toString())
  })

  it('another shape, another limit or another root gives another CID', async () => {
    const a = await schemaFromDSL('type T struct { a String }', 'T').cid()
    const b = await schemaFromDSL('type T struct { a Int }', 'T').cid()
    const c = await schemaFromDSL('type T struct { a String }', 'T', { maxBytes: 10 }).cid()
    expect(new Set([a, b, c].map(String)).size).toBe(3)
  })

  it('round-trips through its stored document', async () => {
    const again = schemaFromDocument(dagCbor.decode(todoBuilt.bytes))
    expect((await again.cid()).equals(await todoBuilt.cid())).toBe(true)
    expect(again.is(validTodo)).toBe(true)
  })
})

describe('validation', () => {
  it('accepts a valid value, typed', () => {
    const todo = todoBuilt.from(validTodo)
    expectTypeOf(todo.title).toEqualTypeOf<string>()
    expectTypeOf(todo.prio).toEqualTypeOf<'Low' | 'High'>()
    expectTypeOf(todo.tags).toEqualTypeOf<string[] | undefined>()
    expectTypeOf(todo.note).toEqualTypeOf<string | null>()
    expect(todoFromDsl.is(validTodo)).toBe(true)
    expect(todoBuilt.is({ ...validTodo, ref: CID.parse('bafyreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy') })).toBe(true)
  })

  it('says where, what was expected and what it got', () => {
    expect(message(todoBuilt, { ...validTodo, tags: ['a', 'b', 3] })).toBe('/tags/2: expected String, got Int')
    expect(message(todoBuilt, { ...validTodo, done: 'no' })).toBe('/done: expected Bool, got String')
    expect(message(todoBuilt, { ...validTodo, count: 1.5 })).toBe('/count: expected Int, got Float')
    expect(message(todoBuilt, { ...validTodo, score: 'x' })).toBe('/score: expected Float, got String')
    expect(message(todoBuilt, { ...validTodo, blob: [1] })).toBe('/blob: expected Bytes, got List')
    expect(message(todoBuilt, { ...validTodo, note: undefined })).toBe('/note: expected String, got undefined')
    expect(message(todoBuilt, { ...validTodo, prio: 'Urgent' })).toBe('/prio: expected Priority (Low | High), got "Urgent"')
    expect(message(todoBuilt, { ...validTodo, meta: { x: 'y' } })).toBe('/meta/x: expected Int, got String')
    expect(message(todoBuilt, { ...validTodo, ref: 'bafy…' })).toBe('/ref: expected &Any, got String')
    expect(message(todoBuilt, { ...validTodo, owner: { name: 1 } })).toBe('/owner/name: expected String, got Int')
    expect(message(todoBuilt, { ...validTodo, extra: true })).toBe('/extra: expected Extra (String | Int), got Bool')
    expect(message(todoBuilt, { ...validTodo, maybe: [1] })).toBe('/maybe/0: expected String, got Int')
    expect(message(todoBuilt, 'todo')).toBe('/: expected Todo, got String')
    const { title: _, ...untitled } = validTodo
    expect(message(todoBuilt, untitled)).toBe('/title: expected field title of Todo, got nothing')
    expect(message(todoBuilt, { ...validTodo, surprise: 1 })).toBe('/surprise: expected no field surprise in Todo, got Int')
  })

  it('refuses values larger than the limit, and values dag-cbor cannot hold', () => {
    const small = defineSchema('Note', s.struct({ text: s.string() }), { maxBytes: 32 })
    expect(small.is({ text: 'short' })).toBe(true)
    expect(message(small, { text: 'x'.repeat(100) })).toMatch(/^\/: expected at most 32 bytes, got \d+ bytes$/)
    expect(small.read({ text: 'x'.repeat(100) }, { size: false })).toEqual({ ok: { text: 'x'.repeat(100) } })
    expect(message(todoBuilt, { ...validTodo, count: Number.NaN })).toBe('/count: expected Int, got number')
  })

  it('from() throws a SchemaValidationError with path, expected and actual', () => {
    expect(() => todoBuilt.from({ ...validTodo, done: 1 })).toThrow(SchemaValidationError)
    try {
      todoBuilt.from({ ...validTodo, done: 1 })
    } catch (err) {
      expect(err).toMatchObject({ name: 'SchemaValidationError', path: '/done', expected: 'Bool', actual: 'Int' })
    }
  })

  it('refuses schemas it cannot check, when they are made', () => {
    expect(() => schemaFromDSL('type T struct { a Missing }', 'T')).toThrow(InvalidSchemaError)
    expect(() => schemaFromDSL('type T struct { a String } representation tuple', 'T')).toThrow(/only the plain map representation/)
    expect(() => schemaFromDSL('type T struct {', 'T')).toThrow(/does not parse/)
    expect(() => schemaFromDSL('type T struct { a String }', 'Nope')).toThrow(/root type Nope/)
    expect(() => s.list(s.struct({ a: s.string() }))).toThrow(/need a name/)
  })

  it('never generates code: it works with eval and Function disabled, as under a strict CSP', () => {
    const original = globalThis.Function
    // biome-ignore lint/security/noGlobalEval: the test replaces eval to prove it is never called
    const originalEval = globalThis.eval
    const refuse = () => { throw new EvalError('refused by CSP') }
    globalThis.Function = new Proxy(original, { construct: refuse, apply: refuse })
    globalThis.eval = refuse as typeof eval
    try {
      const schema = schemaFromDSL('type T struct { a [Int] b optional {String:Bool} }', 'T')
      expect(schema.is({ a: [1, 2], b: { x: true } })).toBe(true)
      expect(message(schema, { a: ['1'] })).toBe('/a/0: expected Int, got String')
    } finally {
      globalThis.Function = original
      globalThis.eval = originalEval
    }
  })
})

describe('hostile values', () => {
  it('refuses a value nested deeper than the stack allows, without throwing', () => {
    const tree = schemaFromDSL('type Tree struct { kids [Tree] }', 'Tree')
    let deep: { kids: unknown[] } = { kids: [] }
    for (let i = 0; i < 200_000; i++) deep = { kids: [deep] }
    const result = tree.read(deep, { size: false })
    expect('error' in result && result.error.actual).toBe('a value nested too deeply to check')
    expect(tree.is({ kids: [{ kids: [] }] })).toBe(true)
  })
})

describe('what the review found', () => {
  it('a decoded __proto__ key is not a map field: it fails, it does not slip past', () => {
    const flags = schemaFromDSL('type Flags {String:Bool}', 'Flags')
    const polluted = dagCbor.decode(dagCbor.encode({ ok: true, ['__proto__']: { isAdmin: true } }))
    expect(flags.is(polluted)).toBe(false)
    const t = schemaFromDSL('type T struct { a String }', 'T')
    expect(t.is(dagCbor.decode(dagCbor.encode({ a: 'x', ['__proto__']: { b: 1 } })))).toBe(false)
    expect(flags.is(new Map([['ok', 'no']]))).toBe(false)
  })

  it('refuses representations it would otherwise ignore, and self-referring unions', () => {
    expect(() => schemaFromDSL('type E enum { | A ("a") | B }', 'E')).toThrow(/no renamed members/)
    expect(() => schemaFromDSL('type T struct { a String (rename "b") }', 'T')).toThrow(/no tuple, renames or implicits/)
    expect(() => schemaFromDSL('type U union { | String string | V list } representation kinded\ntype V union { | Int int } representation kinded', 'U')).toThrow(/may not be a union/)
    expect(() => schemaFromDocument({ type: 'didbase-schema', root: 'toString', maxBytes: 10, schema: { types: {} } })).toThrow(InvalidSchemaError)
    expect(() => schemaFromDocument({ type: 'didbase-schema', root: 'T', maxBytes: 10, schema: { types: { T: 5 } } })).toThrow(InvalidSchemaError)
    expect(() => schemaFromDocument({ type: 'didbase-schema', root: 'T', maxBytes: 10, schema: { types: { T: { struct: { fields: null, representation: { map: {} } } } } } })).toThrow(InvalidSchemaError)
  })

  it('nullable(optional(x)) keeps both, like the DSL', async () => {
    const built = defineSchema('T', s.struct({ a: s.nullable(s.optional(s.string())) }))
    const dsl = schemaFromDSL('type T struct { a optional nullable String }', 'T')
    expect((await built.cid()).toString()).toBe((await dsl.cid()).toString())
    expect(built.is({})).toBe(true)
    expect(built.is({ a: null })).toBe(true)
  })
})
