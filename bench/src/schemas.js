// Validations per second for one shape: didbase schemas made from the DSL and from the
// builder (the same interpreter, so they should match), next to ajv compiling the
// equivalent JSON Schema, and @ipld/schema's generated validator for reference. The same
// valid value is checked in a loop; every checker must accept it and refuse a bad one.
import { performance } from 'node:perf_hooks'
import { defineSchema, s, schemaFromDSL } from '@didbase/schemas'
import { create as ipldTyped } from '@ipld/schema/typed.js'
import Ajv from 'ajv'

const DSL = `
type Todo struct {
  title String
  done Bool
  count Int
  tags optional [String]
  prio Priority
  owner Person
  meta {String:Int}
}
type Priority enum { | Low | High }
type Person struct { name String }
`

const built = defineSchema('Todo', s.struct({
  title: s.string(),
  done: s.bool(),
  count: s.int(),
  tags: s.optional(s.list(s.string())),
  prio: s.enum('Priority', ['Low', 'High']),
  owner: s.struct({ name: s.string() }, 'Person'),
  meta: s.map(s.int())
}))
const fromDsl = schemaFromDSL(DSL, 'Todo')

const jsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['title', 'done', 'count', 'prio', 'owner', 'meta'],
  properties: {
    title: { type: 'string' },
    done: { type: 'boolean' },
    count: { type: 'integer' },
    tags: { type: 'array', items: { type: 'string' } },
    prio: { enum: ['Low', 'High'] },
    owner: { type: 'object', additionalProperties: false, required: ['name'], properties: { name: { type: 'string' } } },
    meta: { type: 'object', additionalProperties: { type: 'integer' } }
  }
}

const value = { title: 'write docs', done: false, count: 3, tags: ['a', 'b', 'c'], prio: 'High', owner: { name: 'alice' }, meta: { x: 1, y: 2 } }
const bad = { ...value, tags: ['a', 'b', 3] }

function rate (check, n) {
  if (!check(value) || check(bad)) throw new Error('a checker disagrees about the sample values')
  for (let i = 0; i < 1000; i++) check(value)
  const start = performance.now()
  for (let i = 0; i < n; i++) check(value)
  return (n / (performance.now() - start)) * 1000
}

export function schemaRates (n) {
  const ajv = new Ajv({ allErrors: false }).compile(jsonSchema)
  const ipld = ipldTyped(fromDsl.dmt, 'Todo')
  const theirs = rate((v) => ajv(v), n)
  return {
    ajv: theirs,
    rows: [
      { name: 'validate: DSL schema (shape)', ours: rate((v) => 'ok' in fromDsl.read(v, { size: false }), n), theirs },
      { name: 'validate: builder schema (shape)', ours: rate((v) => 'ok' in built.read(v, { size: false }), n), theirs },
      { name: 'validate: builder schema (shape + size limit)', ours: rate((v) => built.is(v), n), theirs },
      { name: 'reference: @ipld/schema generated code (new Function)', ours: rate((v) => ipld.toTyped(v) !== undefined, n), theirs }
    ]
  }
}
