/**
 * Validation by interpretation: the schema is turned into plain closures, never into
 * generated source, so it runs under a strict Content-Security-Policy (no `eval`, no
 * `new Function`, unlike `@ipld/schema`'s typed validators).
 */
import { CID } from 'multiformats/cid'
import { BUILTINS, type FieldDefn, type Kind, type SchemaDmt, type TypeDefn, type TypeRef } from './dmt.js'
import { InvalidSchemaError } from './errors.js'

export interface Failure {
  path: string
  expected: string
  actual: string
}

/**
 * A check. With `path` null it only answers (a failure is the shared `FAILED`) and builds
 * nothing; with a path it also says where. Callers run the cheap form first.
 */
type Path = readonly string[] | null
type Check = (value: unknown, path: Path) => Failure | undefined

const FAILED: Failure = { path: '', expected: '', actual: '' }

function child (path: Path, segment: string): Path {
  return path === null ? null : [...path, segment]
}

/** The data-model kind of a JS value, or undefined for what dag-cbor cannot hold. */
export function kindOf (value: unknown): Kind | undefined {
  if (value === null) return 'null'
  switch (typeof value) {
    case 'boolean': return 'bool'
    case 'string': return 'string'
    case 'bigint': return 'int'
    case 'number': return Number.isFinite(value) ? (Number.isInteger(value) ? 'int' : 'float') : undefined
    case 'object': {
      if (Array.isArray(value)) return 'list'
      if (value instanceof Uint8Array) return 'bytes'
      if (CID.asCID(value) !== null) return 'link'
      // Only plain objects are maps: a decoded `__proto__` key, a Map or a class instance is not data.
      const proto = Object.getPrototypeOf(value)
      return proto === Object.prototype || proto === null ? 'map' : undefined
    }
    default: return undefined
  }
}

const KIND_NAMES: Record<Kind, string> = {
  null: 'Null', bool: 'Bool', int: 'Int', float: 'Float', string: 'String', bytes: 'Bytes', list: 'List', map: 'Map', link: 'Link'
}

function shown (value: unknown): string {
  const kind = kindOf(value)
  return kind === undefined ? (value === undefined ? 'undefined' : typeof value) : KIND_NAMES[kind]
}

function at (path: readonly string[] | null): string {
  if (path === null) return ''
  return `/${path.map((p) => p.replaceAll('~', '~0').replaceAll('/', '~1')).join('/')}`
}

function fail (path: Path, expected: string, value: unknown): Failure {
  return path === null ? FAILED : { path: at(path), expected, actual: shown(value) }
}

function nameOf (ref: TypeRef): string {
  if (typeof ref === 'string') return ref
  if ('list' in ref) return `[${nameOf(ref.list.valueType)}]`
  if ('map' in ref) return `{${ref.map.keyType}:${nameOf(ref.map.valueType)}}`
  return `&${ref.link.expectedType ?? 'Any'}`
}

function isEmpty (value: unknown): boolean {
  return typeof value === 'object' && value !== null && Object.keys(value).length === 0
}

/** Compile `root` of `schema` into a check. Throws `InvalidSchemaError` for what it cannot check. */
export function compile (schema: SchemaDmt, root: string): Check {
  try {
    return compileUnchecked(schema, root)
  } catch (err) {
    if (err instanceof InvalidSchemaError) throw err
    // A malformed document (a peer's, say): a typed refusal, never a TypeError.
    throw new InvalidSchemaError(`the schema is malformed: ${(err as Error).message}`, { cause: err })
  }
}

function compileUnchecked (schema: SchemaDmt, root: string): Check {
  const compiled = new Map<string, Check>()

  const named = (name: string): Check => {
    const existing = compiled.get(name)
    if (existing !== undefined) return existing
    const builtin = Object.hasOwn(BUILTINS, name) ? BUILTINS[name] : undefined
    const defn = Object.hasOwn(schema.types, name) ? schema.types[name] : undefined
    if (builtin === undefined && defn === undefined) throw new InvalidSchemaError(`type ${name} is used but not defined`)
    // Recursive types refer to themselves through this forwarder.
    let check: Check | undefined
    compiled.set(name, (value, path) => (check as Check)(value, path))
    check = builtin !== undefined ? scalar(builtin, name) : definition(name, defn as TypeDefn)
    compiled.set(name, check)
    return check
  }

  const scalar = (kind: string, name: string): Check => {
    switch (kind) {
      case 'any': return (value, path) => (kindOf(value) === undefined ? fail(path, 'Any', value) : undefined)
      case 'float': return (value, path) => ((typeof value === 'number' && Number.isFinite(value)) || typeof value === 'bigint' ? undefined : fail(path, name, value))
      case 'link': return (value, path) => (CID.asCID(value) !== null ? undefined : fail(path, name, value))
      default: return (value, path) => (kindOf(value) === kind ? undefined : fail(path, name, value))
    }
  }

  const nullableOr = (check: Check, nullable: boolean | undefined): Check =>
    nullable === true ? (value, path) => (value === null ? undefined : check(value, path)) : check

  const list = (valueType: TypeRef, valueNullable: boolean | undefined, name: string): Check => {
    const item = nullableOr(ref(valueType), valueNullable)
    return (value, path) => {
      if (!Array.isArray(value)) return fail(path, name, value)
      for (let i = 0; i < value.length; i++) {
        const f = item(value[i], path === null ? null : [...path, String(i)])
        if (f !== undefined) return f
      }
      return undefined
    }
  }

  const map = (keyType: string, valueType: TypeRef, valueNullable: boolean | undefined, name: string): Check => {
    if (keyType !== 'String' && !Object.hasOwn(schema.types, keyType)) throw new InvalidSchemaError(`map keys must be strings (got ${keyType})`)
    const key = named(keyType)
    const item = nullableOr(ref(valueType), valueNullable)
    return (value, path) => {
      if (kindOf(value) !== 'map') return fail(path, name, value)
      const record = value as Record<string, unknown>
      for (const k of Object.keys(record)) {
        const at = child(path, k)
        const f = key(k, at) ?? item(record[k], at)
        if (f !== undefined) return f
      }
      return undefined
    }
  }

  const ref = (r: TypeRef): Check => {
    if (typeof r === 'string') return named(r)
    if ('list' in r) return list(r.list.valueType, r.list.valueNullable, nameOf(r))
    if ('map' in r) return map(r.map.keyType, r.map.valueType, r.map.valueNullable, nameOf(r))
    if ('link' in r) return scalar('link', nameOf(r))
    throw new InvalidSchemaError(`unsupported type reference ${JSON.stringify(r)}`)
  }

  const struct = (name: string, fields: Record<string, FieldDefn>): Check => {
    const checks = Object.entries(fields).map(([field, f]) => ({ field, optional: f.optional === true, check: nullableOr(ref(f.type), f.nullable) }))
    const known = new Set(Object.keys(fields))
    return (value, path) => {
      if (kindOf(value) !== 'map') return fail(path, name, value)
      const record = value as Record<string, unknown>
      let present = 0
      for (const { field, optional, check } of checks) {
        if (!Object.hasOwn(record, field)) {
          if (optional) continue
          return path === null ? FAILED : { path: at([...path, field]), expected: `field ${field} of ${name}`, actual: 'nothing' }
        }
        present++
        const f = check(record[field], child(path, field))
        if (f !== undefined) return f
      }
      const keys = Object.keys(record)
      if (keys.length > present) {
        const extra = keys.find((k) => !known.has(k)) as string
        return path === null ? FAILED : { path: at([...path, extra]), expected: `no field ${extra} in ${name}`, actual: shown(record[extra]) }
      }
      return undefined
    }
  }

  const definition = (name: string, defn: TypeDefn): Check => {
    if ('struct' in defn) {
      const repr = (defn.struct.representation ?? { map: {} }) as Record<string, unknown>
      if (!('map' in repr) || !isEmpty(repr.map)) throw new InvalidSchemaError(`struct ${name}: only the plain map representation is supported (no tuple, renames or implicits)`)
      return struct(name, defn.struct.fields)
    }
    if ('enum' in defn) {
      const repr = (defn.enum.representation ?? { string: {} }) as Record<string, unknown>
      if (!('string' in repr) || !isEmpty(repr.string)) throw new InvalidSchemaError(`enum ${name}: only the plain string representation is supported (no renamed members)`)
      const members = new Set(defn.enum.members)
      const expected = `${name} (${defn.enum.members.join(' | ')})`
      return (value, path) => {
        if (typeof value === 'string' && members.has(value)) return undefined
        if (path === null) return FAILED
        return typeof value === 'string' ? { path: at(path), expected, actual: JSON.stringify(value.slice(0, 40)) } : fail(path, expected, value)
      }
    }
    if ('union' in defn) {
      const repr = defn.union.representation
      for (const member of Object.values('kinded' in repr ? repr.kinded : 'keyed' in repr ? repr.keyed : {})) {
        const target = Object.hasOwn(schema.types, member) ? schema.types[member] : undefined
        if (target !== undefined && 'union' in target) throw new InvalidSchemaError(`union ${name}: a member may not be a union (${member})`)
      }
      if ('kinded' in repr) {
        const byKind = new Map(Object.entries(repr.kinded).map(([kind, member]) => [kind, named(member)]))
        const expected = `${name} (${Object.values(repr.kinded).join(' | ')})`
        return (value, path) => {
          const kind = kindOf(value)
          const member = (kind === undefined ? undefined : byKind.get(kind)) ?? (kind === 'int' ? byKind.get('float') : undefined)
          return member === undefined ? fail(path, expected, value) : member(value, path)
        }
      }
      if ('keyed' in repr) {
        const byKey = new Map(Object.entries(repr.keyed).map(([key, member]) => [key, named(member)]))
        const expected = `${name} (a map with one key: ${[...byKey.keys()].join(' | ')})`
        return (value, path) => {
          if (kindOf(value) !== 'map') return fail(path, expected, value)
          const entries = Object.entries(value as Record<string, unknown>)
          const [key, inner] = entries[0] ?? []
          const member = entries.length === 1 && key !== undefined ? byKey.get(key) : undefined
          return member === undefined ? fail(path, expected, value) : member(inner, child(path, key as string))
        }
      }
      throw new InvalidSchemaError(`union ${name}: only kinded and keyed representations are supported`)
    }
    if ('list' in defn) return list(defn.list.valueType, defn.list.valueNullable, name)
    if ('map' in defn) {
      const repr = (defn.map as { representation?: Record<string, unknown> }).representation
      if (repr !== undefined && !('map' in repr)) throw new InvalidSchemaError(`map ${name}: only the map representation is supported`)
      return map(defn.map.keyType, defn.map.valueType, defn.map.valueNullable, name)
    }
    if ('link' in defn) return scalar('link', name)
    for (const kind of ['string', 'int', 'float', 'bool', 'bytes'] as const) {
      if (kind in defn) return scalar(kind, name)
    }
    throw new InvalidSchemaError(`type ${name}: unsupported kind ${Object.keys(defn).join(', ')}`)
  }

  if (typeof schema.types !== 'object' || schema.types === null || !Object.hasOwn(schema.types, root)) {
    throw new InvalidSchemaError(`the root type ${root} is not defined`)
  }
  const check = named(root)
  // Compile every type now, so a bad schema fails when it is made, not on some later value.
  for (const name of Object.keys(schema.types)) named(name)
  return check
}
