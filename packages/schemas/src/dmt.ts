/**
 * The schema data model (DMT): the form `@ipld/schema`'s DSL parser produces, and the form
 * the builder produces too, so both give the same canonical bytes and CID for one shape.
 * This is the subset didbase supports; `checkSchema` refuses anything else by name.
 */

/** A reference to a type: a named type, or an inline list, map or link. */
export type TypeRef =
  | string
  | { list: { valueType: TypeRef, valueNullable?: boolean } }
  | { map: { keyType: string, valueType: TypeRef, valueNullable?: boolean } }
  | { link: { expectedType?: string } }

export interface FieldDefn {
  type: TypeRef
  optional?: boolean
  nullable?: boolean
}

/** A named type definition. */
export type TypeDefn =
  | { struct: { fields: Record<string, FieldDefn>, representation: { map: Record<string, never> } } }
  | { enum: { members: string[], representation: { string: Record<string, never> } } }
  | { union: { members: string[], representation: { kinded: Record<string, string> } | { keyed: Record<string, string> } } }
  | { list: { valueType: TypeRef, valueNullable?: boolean } }
  | { map: { keyType: string, valueType: TypeRef, valueNullable?: boolean } }
  | { link: { expectedType?: string } }
  | { string: Record<string, never> }
  | { int: Record<string, never> }
  | { float: Record<string, never> }
  | { bool: Record<string, never> }
  | { bytes: Record<string, never> }

export interface SchemaDmt {
  types: Record<string, TypeDefn>
}

/** Names every schema may use without defining them. */
export const BUILTINS: Readonly<Record<string, string>> = {
  String: 'string',
  Int: 'int',
  Float: 'float',
  Bool: 'bool',
  Bytes: 'bytes',
  Link: 'link',
  Any: 'any'
}

/** The data-model kinds a kinded union can select on. */
export const KINDS = ['null', 'bool', 'int', 'float', 'string', 'bytes', 'list', 'map', 'link'] as const
export type Kind = typeof KINDS[number]
