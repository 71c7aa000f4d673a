/**
 * A schema as didbase uses it: a root type in a schema DMT plus a size limit, encoded as
 * one canonical dag-cbor document whose CID a database address can commit to.
 */
import * as dagCbor from '@ipld/dag-cbor'
import { fromDSL } from '@ipld/schema/from-dsl.js'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import type { SchemaDmt } from './dmt.js'
import { InvalidSchemaError, SchemaValidationError } from './errors.js'
import { compile, type Failure } from './validate.js'

export const SCHEMA_DOCUMENT = 'didbase-schema'
/** Default largest encoded value a schema admits: 64 KiB. */
export const DEFAULT_MAX_BYTES = 64 * 1024

/** The stored form: what the schema CID addresses. */
export interface SchemaDocument {
  type: typeof SCHEMA_DOCUMENT
  root: string
  maxBytes: number
  schema: SchemaDmt
}

export type ReadResult<T> = { ok: T } | { error: SchemaValidationError }

export interface SchemaOptions {
  /** Largest encoded (dag-cbor) value admitted, in bytes. Default 64 KiB. */
  maxBytes?: number
}

export interface ReadOptions {
  /** Also check the encoded size against `maxBytes` (default true). */
  size?: boolean
}

export class Schema<T = unknown> {
  readonly root: string
  readonly maxBytes: number
  readonly dmt: SchemaDmt
  /** The canonical dag-cbor bytes of the schema document. */
  readonly bytes: Uint8Array
  readonly #check: ReturnType<typeof compile>
  #cid: Promise<CID> | undefined

  constructor (document: SchemaDocument) {
    if (typeof document.root !== 'string' || document.root === '') throw new InvalidSchemaError('a schema needs a root type name')
    if (!Number.isSafeInteger(document.maxBytes) || document.maxBytes <= 0) throw new InvalidSchemaError('maxBytes must be a positive integer')
    this.root = document.root
    this.maxBytes = document.maxBytes
    this.dmt = document.schema
    this.#check = compile(document.schema, document.root)
    this.bytes = dagCbor.encode(document)
  }

  /** The schema document's CID (dag-cbor, sha2-256): what a database manifest names. */
  async cid (): Promise<CID> {
    this.#cid ??= (async () => CID.create(1, dagCbor.code, await sha256.digest(this.bytes)))()
    return this.#cid
  }

  /** Check `value`; never throws. */
  read (value: unknown, options: ReadOptions = {}): ReadResult<T> {
    // The cheap pass builds no paths; only a failure is checked again to say where.
    try {
      if (this.#check(value, null) !== undefined) {
        const failure = this.#check(value, []) as Failure
        return { error: new SchemaValidationError(failure.path, failure.expected, failure.actual) }
      }
    } catch (err) {
      // A recursive type and a hostile, deeply nested value: refuse, never throw.
      if (!(err instanceof RangeError)) throw err
      return { error: new SchemaValidationError('/', this.root, 'a value nested too deeply to check') }
    }
    if (options.size !== false) {
      let size: number
      try {
        size = dagCbor.encode(value).length
      } catch {
        return { error: new SchemaValidationError('/', this.root, 'a value dag-cbor cannot encode') }
      }
      if (size > this.maxBytes) return { error: new SchemaValidationError('/', `at most ${this.maxBytes} bytes`, `${size} bytes`) }
    }
    return { ok: value as T }
  }

  /** Type guard: whether `value` is valid. */
  is (value: unknown): value is T {
    return 'ok' in this.read(value)
  }

  /** `value`, typed, or throw `SchemaValidationError` with the path of the first problem. */
  from (value: unknown): T {
    const result = this.read(value)
    if ('error' in result) throw result.error
    return result.ok
  }
}

/**
 * A schema from the IPLD Schema DSL; `root` names the type values must have.
 *
 * @example
 * ```ts
 * const todo = schemaFromDSL<{ title: string }>('type Todo struct { title String }', 'Todo')
 * ```
 */
export function schemaFromDSL<T = unknown> (dsl: string, root: string, options: SchemaOptions = {}): Schema<T> {
  let dmt: SchemaDmt
  try {
    dmt = fromDSL(dsl) as SchemaDmt
  } catch (cause) {
    throw new InvalidSchemaError(`the schema DSL does not parse: ${(cause as Error).message}`, { cause })
  }
  return new Schema<T>({ type: SCHEMA_DOCUMENT, root, maxBytes: options.maxBytes ?? DEFAULT_MAX_BYTES, schema: dmt })
}

/** A schema from its stored document (as fetched by CID). Throws `InvalidSchemaError`. */
export function schemaFromDocument (value: unknown): Schema {
  const doc = value as Partial<SchemaDocument> | null
  if (doc?.type !== SCHEMA_DOCUMENT || typeof doc.schema !== 'object' || doc.schema === null || typeof doc.schema.types !== 'object') {
    throw new InvalidSchemaError('not a didbase schema document')
  }
  return new Schema(doc as SchemaDocument)
}
