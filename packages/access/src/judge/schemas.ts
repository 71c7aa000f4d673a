/** The schemas an ACL database has moved to (`set-schema`), each fetched and checked once. */
import type { Schema } from '@didbase/schemas'
import { EntryRejectedError, InvariantError } from '../errors.js'

export class SchemaCache {
  readonly #load: ((cid: string) => Promise<Schema>) | undefined
  readonly #schemas = new Map<string, Promise<Schema>>()

  constructor (load: ((cid: string) => Promise<Schema>) | undefined) {
    this.#load = load
  }

  /** A schema by CID. A fetch that fails is not remembered (not a verdict); a bad schema is (`InvalidSchemaError`). */
  async get (cid: string): Promise<Schema> {
    let pending = this.#schemas.get(cid)
    if (pending === undefined) {
      const load = this.#load
      if (load === undefined) throw new InvariantError('this database cannot load schemas')
      pending = load(cid).catch((err: Error) => {
        if (err.name === 'InvalidSchemaError') throw err
        this.#schemas.delete(cid)
        throw new EntryRejectedError('(schema)', '(unknown)', 'unavailable', `schema ${cid} could not be fetched: ${err.message}`)
      })
      this.#schemas.set(cid, pending)
    }
    return pending
  }
}
