/**
 * Which names a query may give a field. No imports, so that the command line checks them
 * before it loads anything networked (cli/find-args.ts).
 */

const RECORD_FIELDS = new Set(['key', 'writer', 'time', 'value'])
/** Field paths are data a URL or a command line may hand over: bounded. */
export const MAX_PATH_PARTS = 32
export const MAX_FIELD_LENGTH = 1_024

/** Whether `field` is `key`, `writer`, `time`, `value` or `value.<path>` (at most 32 parts, none empty). */
export function isField (field: unknown): boolean {
  if (typeof field !== 'string' || field.length > MAX_FIELD_LENGTH) return false
  if (RECORD_FIELDS.has(field)) return true
  if (!field.startsWith('value.')) return false
  const parts = field.split('.')
  return parts.length <= MAX_PATH_PARTS + 1 && parts.every((part) => part.length > 0)
}
