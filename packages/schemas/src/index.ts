/**
 * @packageDocumentation
 *
 * IPLD schemas for didbase databases: from the IPLD Schema DSL or a TypeScript builder that
 * infers the value type, canonical (dag-cbor, one CID per shape), validated without code
 * generation (safe under a strict Content-Security-Policy), with error paths.
 *
 * @example
 * ```ts
 * import { defineSchema, s } from '@didbase/schemas'
 *
 * const todo = defineSchema('Todo', s.struct({ title: s.string(), done: s.bool() }))
 * todo.from({ title: 'write docs', done: false }) // typed { title: string, done: boolean }
 * ```
 */
export { defineSchema, type Field, type Infer, type Node, s, type StructValue } from './builder.js'
export type { FieldDefn, Kind, SchemaDmt, TypeDefn, TypeRef } from './dmt.js'
export { InvalidSchemaError, SchemaValidationError } from './errors.js'
export {
  DEFAULT_MAX_BYTES,
  type ReadOptions,
  type ReadResult,
  Schema,
  SCHEMA_DOCUMENT,
  type SchemaDocument,
  schemaFromDocument,
  schemaFromDSL,
  type SchemaOptions
} from './schema.js'
export { kindOf } from './validate.js'
