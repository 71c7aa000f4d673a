/**
 * A TypeScript builder for schemas that infers the value type. It produces the same DMT as
 * the equivalent DSL, so both give the same CID:
 *
 * ```ts
 * const todo = defineSchema('Todo', s.struct({ title: s.string(), tags: s.optional(s.list(s.string())) }))
 * // same CID as schemaFromDSL('type Todo struct { title String tags optional [String] }', 'Todo')
 * ```
 *
 * Structs, enums and unions are named types in IPLD schemas: name them when they are not
 * the root (`s.struct(fields, 'Address')`).
 */
import type { CID } from 'multiformats/cid'
import type { FieldDefn, Kind, TypeDefn, TypeRef } from './dmt.js'
import { InvalidSchemaError } from './errors.js'
import { DEFAULT_MAX_BYTES, SCHEMA_DOCUMENT, Schema, type SchemaOptions } from './schema.js'

/** A type being built; `T` is the TypeScript type of its values. */
export interface Node<T> {
  /** How other types refer to it; undefined for an unnamed struct, enum or union. */
  readonly ref: TypeRef | undefined
  /** Its own definition, when it is a struct, enum or union. */
  readonly defn?: TypeDefn
  /** Named types it needs. */
  readonly defs: Readonly<Record<string, TypeDefn>>
  /** Phantom: never set. */
  readonly __value?: T
}

/** A struct field: a type, maybe optional (may be absent) or nullable (may be null). */
export interface Field<T, Optional extends boolean> {
  readonly node: Node<unknown>
  readonly optional: Optional
  readonly nullable: boolean
  readonly __value?: T
}

export type Infer<N> = N extends Node<infer T> ? T : N extends Schema<infer T> ? T : never
type FieldValue<F> = F extends Field<infer T, boolean> ? T : F extends Node<infer T> ? T : never
type OptionalKeys<F> = { [K in keyof F]: F[K] extends Field<unknown, true> ? K : never }[keyof F]
type RequiredKeys<F> = Exclude<keyof F, OptionalKeys<F>>
type Simplify<T> = { [K in keyof T]: T[K] } & {}
export type StructValue<F> = Simplify<{ [K in RequiredKeys<F>]: FieldValue<F[K]> } & { [K in OptionalKeys<F>]?: FieldValue<F[K]> }>

type AnyField = Node<any> | Field<any, boolean>

function merge (...all: Array<Readonly<Record<string, TypeDefn>>>): Record<string, TypeDefn> {
  const out: Record<string, TypeDefn> = {}
  for (const defs of all) {
    for (const [name, defn] of Object.entries(defs)) {
      if (out[name] !== undefined && JSON.stringify(out[name]) !== JSON.stringify(defn)) {
        throw new InvalidSchemaError(`two different types are named ${name}`)
      }
      out[name] = defn
    }
  }
  return out
}

function refOf (node: Node<unknown>, where: string): TypeRef {
  if (node.ref === undefined) throw new InvalidSchemaError(`${where}: structs, enums and unions inside a schema need a name, e.g. s.struct({ … }, 'Address')`)
  return node.ref
}

function named<T> (name: string | undefined, defn: TypeDefn, defs: Record<string, TypeDefn>): Node<T> {
  return name === undefined ? { ref: undefined, defn, defs } : { ref: name, defn, defs: merge(defs, { [name]: defn }) }
}

const scalar = <T>(name: string): Node<T> => ({ ref: name, defs: {} })

export const s = {
  string: (): Node<string> => scalar('String'),
  int: (): Node<number> => scalar('Int'),
  float: (): Node<number> => scalar('Float'),
  bool: (): Node<boolean> => scalar('Bool'),
  bytes: (): Node<Uint8Array> => scalar('Bytes'),
  /** A link (CID); the same as `&Any` in the DSL. */
  link: (): Node<CID> => ({ ref: { link: { expectedType: 'Any' } }, defs: {} }),

  list<T> (item: Node<T> | Field<T | null, false>): Node<T[]> {
    const node = 'node' in item ? item.node : item
    const nullable = 'node' in item && item.nullable
    return { ref: { list: { valueType: refOf(node, 'a list item'), ...(nullable ? { valueNullable: true } : {}) } }, defs: node.defs }
  },

  /** A map with string keys. */
  map<T> (value: Node<T> | Field<T | null, false>): Node<Record<string, T>> {
    const node = 'node' in value ? value.node : value
    const nullable = 'node' in value && value.nullable
    return { ref: { map: { keyType: 'String', valueType: refOf(node, 'a map value'), ...(nullable ? { valueNullable: true } : {}) } }, defs: node.defs }
  },

  optional<T> (type: Node<T> | Field<T, boolean>): Field<T, true> {
    const f = 'node' in type ? type : { node: type, nullable: false }
    return { node: f.node, optional: true, nullable: f.nullable }
  },

  nullable<T, O extends boolean = false> (type: Node<T> | Field<T, O>): Field<T | null, O> {
    const f = 'node' in type ? type : { node: type, optional: false }
    return { node: f.node, optional: f.optional, nullable: true } as Field<T | null, O>
  },

  struct<F extends Record<string, AnyField>> (fields: F, name?: string): Node<StructValue<F>> {
    const dmtFields: Record<string, FieldDefn> = {}
    const defs: Array<Readonly<Record<string, TypeDefn>>> = []
    for (const [key, field] of Object.entries(fields)) {
      const f = 'node' in field ? field : { node: field, optional: false, nullable: false }
      dmtFields[key] = { type: refOf(f.node, `field ${key}`), ...(f.optional ? { optional: true } : {}), ...(f.nullable ? { nullable: true } : {}) }
      defs.push(f.node.defs)
    }
    return named(name, { struct: { fields: dmtFields, representation: { map: {} } } }, merge(...defs))
  },

  enum<const M extends readonly string[]> (name: string, members: M): Node<M[number]> {
    return named(name, { enum: { members: [...members], representation: { string: {} } } }, {})
  },

  /** A kinded union: the value's kind (string, int, map, …) picks the member type. */
  union<const U extends Partial<Record<Kind, Node<any>>>> (name: string, members: U): Node<{ [K in keyof U]: Infer<U[K]> }[keyof U]> {
    const kinded: Record<string, string> = {}
    for (const [kind, node] of Object.entries(members) as Array<[string, Node<unknown>]>) {
      const ref = refOf(node, `union ${name} member ${kind}`)
      if (typeof ref !== 'string') throw new InvalidSchemaError(`union ${name}: members must be named types`)
      kinded[kind] = ref
    }
    const defs = merge(...(Object.values(members) as Array<Node<unknown>>).map((n) => n.defs))
    return named(name, { union: { members: Object.values(kinded), representation: { kinded } } }, defs)
  }
}

function definitionOf (ref: TypeRef): TypeDefn {
  if (typeof ref !== 'string') return ref as TypeDefn
  const kinds: Record<string, TypeDefn> = {
    String: { string: {} }, Int: { int: {} }, Float: { float: {} }, Bool: { bool: {} }, Bytes: { bytes: {} }
  }
  const defn = kinds[ref]
  if (defn === undefined) throw new InvalidSchemaError(`the root must be a new type, not ${ref}`)
  return defn
}

/** Make a schema whose root type is `node`, named `root`. */
export function defineSchema<N extends Node<any>> (root: string, node: N, options: SchemaOptions = {}): Schema<Infer<N>> {
  const defn = node.defn ?? definitionOf(refOf(node, 'the root'))
  if (node.defn !== undefined && node.ref !== undefined && node.ref !== root) {
    throw new InvalidSchemaError(`the root is named ${String(node.ref)}; call defineSchema('${String(node.ref)}', …)`)
  }
  const types = merge(node.defs, { [root]: defn })
  return new Schema<Infer<N>>({ type: SCHEMA_DOCUMENT, root, maxBytes: options.maxBytes ?? DEFAULT_MAX_BYTES, schema: { types } })
}
