/** A value does not match its schema. `path` is where, e.g. `/tags/2`. Nothing was written. */
export class SchemaValidationError extends Error {
  static override name = 'SchemaValidationError'
  override name = 'SchemaValidationError'
  readonly path: string
  readonly expected: string
  readonly actual: string

  constructor (path: string, expected: string, actual: string) {
    super(`${path}: expected ${expected}, got ${actual}`)
    this.path = path
    this.expected = expected
    this.actual = actual
  }
}

/** A schema uses something didbase cannot check, or is malformed. */
export class InvalidSchemaError extends Error {
  static override name = 'InvalidSchemaError'
  override name = 'InvalidSchemaError'
}
