/** One shape written twice, in the DSL and with the builder, for tests and the bench. */
import { defineSchema, s, schemaFromDSL } from '../src/index.js'

export const TODO_DSL = `
type Todo struct {
  title String
  done Bool
  count Int
  score Float
  blob Bytes
  tags optional [String]
  note nullable String
  prio Priority
  meta {String:Int}
  ref optional &Any
  owner Person
  extra Extra
  maybe [nullable String]
}
type Priority enum { | Low | High }
type Person struct { name String }
type Extra union { | String string | Int int } representation kinded
`

const Priority = s.enum('Priority', ['Low', 'High'])
const Person = s.struct({ name: s.string() }, 'Person')
const Extra = s.union('Extra', { string: s.string(), int: s.int() })

export const todoBuilt = defineSchema('Todo', s.struct({
  title: s.string(),
  done: s.bool(),
  count: s.int(),
  score: s.float(),
  blob: s.bytes(),
  tags: s.optional(s.list(s.string())),
  note: s.nullable(s.string()),
  prio: Priority,
  meta: s.map(s.int()),
  ref: s.optional(s.link()),
  owner: Person,
  extra: Extra,
  maybe: s.list(s.nullable(s.string()))
}))

export const todoFromDsl = schemaFromDSL(TODO_DSL, 'Todo')

export const validTodo = {
  title: 'write docs',
  done: false,
  count: 3,
  score: 0.5,
  blob: new Uint8Array([1, 2]),
  tags: ['a', 'b'],
  note: null,
  prio: 'High',
  meta: { x: 1 },
  owner: { name: 'alice' },
  extra: 7,
  maybe: ['x', null]
}
