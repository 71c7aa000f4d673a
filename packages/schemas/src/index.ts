/**
 * @packageDocumentation
 *
 * IPLD schemas for didbase databases. Not implemented yet; see the package README.
 */
export const SCHEMAS_VERSION = 0
