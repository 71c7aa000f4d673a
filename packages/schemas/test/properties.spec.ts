/**
 * Properties, over values generated from the schema itself: every generated value
 * validates, survives a dag-cbor round trip still valid, and stops validating when any
 * required field is given a value of the wrong kind (with that field's path).
 */
import * as dagCbor from '@ipld/dag-cbor'
import fc from 'fast-check'
import { CID } from 'multiformats/cid'
import { describe, expect, it } from 'vitest'
import type { SchemaDmt, TypeDefn, TypeRef } from '../src/index.js'
import { todoBuilt } from './fixtures.js'

const LINK = CID.parse('bafyreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy')

function arbitraryOf (schema: SchemaDmt, ref: TypeRef): fc.Arbitrary<unknown> {
  if (typeof ref !== 'string') {
    if ('list' in ref) return fc.array(nullableOr(schema, ref.list.valueType, ref.list.valueNullable), { maxLength: 4 })
    if ('map' in ref) return fc.dictionary(fc.string({ maxLength: 6 }), nullableOr(schema, ref.map.valueType, ref.map.valueNullable), { maxKeys: 4 })
    return fc.constant(LINK)
  }
  switch (ref) {
    case 'String': return fc.string({ maxLength: 12 })
    case 'Int': return fc.integer()
    case 'Float': return fc.double({ noNaN: true, noDefaultInfinity: true })
    case 'Bool': return fc.boolean()
    case 'Bytes': return fc.uint8Array({ maxLength: 8 })
  }
  const defn = schema.types[ref] as TypeDefn
  if ('struct' in defn) {
    const fields = defn.struct.fields
    const arbs = Object.fromEntries(Object.entries(fields).map(([k, f]) => [k, nullableOr(schema, f.type, f.nullable)]))
    const required = Object.entries(fields).filter(([, f]) => f.optional !== true).map(([k]) => k)
    return fc.record(arbs, { requiredKeys: required })
  }
  if ('enum' in defn) return fc.constantFrom(...defn.enum.members)
  if ('union' in defn && 'kinded' in defn.union.representation) {
    return fc.oneof(...Object.values(defn.union.representation.kinded).map((member) => arbitraryOf(schema, member)))
  }
  throw new Error(`no generator for ${ref}`)
}

function nullableOr (schema: SchemaDmt, ref: TypeRef, nullable: boolean | undefined): fc.Arbitrary<unknown> {
  const arb = arbitraryOf(schema, ref)
  return nullable === true ? fc.option(arb, { nil: null }) : arb
}

/** A value no type of `ref`'s kind accepts. */
function wrongFor (ref: TypeRef): unknown {
  return ref === 'String' || ref === 'Priority' ? 42 : typeof ref === 'string' && ref === 'Extra' ? true : 'wrong'
}

const todos = arbitraryOf(todoBuilt.dmt, 'Todo') as fc.Arbitrary<Record<string, unknown>>
const fields = (todoBuilt.dmt.types.Todo as Extract<TypeDefn, { struct: unknown }>).struct.fields
const required = Object.entries(fields).filter(([, f]) => f.optional !== true)

describe('schema properties', () => {
  it('values generated from the schema validate, and still do after a dag-cbor round trip', () => {
    fc.assert(fc.property(todos, (value) => {
      expect(todoBuilt.read(value, { size: false })).toEqual({ ok: value })
      const again = dagCbor.decode(dagCbor.encode(value))
      expect(todoBuilt.is(again)).toBe(true)
    }), { numRuns: 300 })
  })

  it('a required field of the wrong kind fails, at that field\'s path', () => {
    fc.assert(fc.property(todos, fc.constantFrom(...required), (value, [name, field]) => {
      const mutated = { ...value, [name]: wrongFor(field.type) }
      const result = todoBuilt.read(mutated)
      expect('error' in result && result.error.path).toBe(`/${name}`)
    }), { numRuns: 300 })
  })

  it('dropping a required field fails; adding an unknown one fails', () => {
    fc.assert(fc.property(todos, fc.constantFrom(...required.map(([n]) => n)), (value, name) => {
      const { [name]: _, ...without } = value
      expect(todoBuilt.is(without)).toBe(false)
      expect(todoBuilt.is({ ...value, [`${name}_extra`]: 1 })).toBe(false)
    }), { numRuns: 200 })
  })
})
