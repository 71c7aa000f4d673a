/** Database addresses and manifests: what a replica learns before it opens a database. */
import { CorruptBlockError } from '@didbase/access'
import { ACCESS_TYPES, type BlockstoreLike, getBlock } from '@didbase/access/internal'
import { isValidAddress } from '@orbitdb/core'
import { base58btc } from 'multiformats/bases/base58'
import { CID } from 'multiformats/cid'
import { InvalidAddressError, UnknownDatabaseError, UnsupportedDatabaseError } from '../errors.js'

export type DatabaseType = 'keyvalue' | 'documents' | 'events'
export const DATABASE_TYPES: readonly DatabaseType[] = ['keyvalue', 'documents', 'events']

/** What didbase keeps in the manifest's `meta`, so every replica opens alike. */
export interface DidbaseMeta {
  didbase: 1
  indexBy?: string
  /** CID of the schema the database was created with (the policy block names it too). */
  schema?: string
}

export interface Manifest {
  name: string
  type: DatabaseType
  accessController: string
  meta: DidbaseMeta
}

const ADDRESS_PREFIX = '/orbitdb/'

/**
 * Tell an address from a name. Returns the manifest CID for an address, `undefined` for a
 * name, and throws `InvalidAddressError` for something that tries to be an address and is not.
 */
export function parseAddress (nameOrAddress: string): CID | undefined {
  if (typeof nameOrAddress !== 'string' || nameOrAddress.length === 0) {
    throw new InvalidAddressError('a database name or address must be a non-empty string')
  }
  if (!nameOrAddress.startsWith(ADDRESS_PREFIX)) {
    if (nameOrAddress.startsWith('/')) {
      throw new InvalidAddressError(`${nameOrAddress} is neither a name nor an address (addresses look like /orbitdb/zdpu…)`)
    }
    return undefined
  }
  if (!isValidAddress(nameOrAddress)) {
    throw new InvalidAddressError(`${nameOrAddress} is not a valid database address (addresses look like /orbitdb/zdpu…)`)
  }
  return CID.parse(nameOrAddress.slice(ADDRESS_PREFIX.length).replaceAll('/', ''), base58btc)
}

export function addressOf (cid: CID): string {
  return `${ADDRESS_PREFIX}${cid.toString(base58btc)}`
}

/** Fetch a manifest (locally or from connected peers), check its hash and that didbase can open it. */
export async function readManifest (blockstore: BlockstoreLike, cid: CID, signal: AbortSignal): Promise<Manifest> {
  const address = addressOf(cid)
  let value: unknown
  try {
    value = await getBlock(blockstore, cid, { signal })
  } catch (cause) {
    if (cause instanceof CorruptBlockError) throw cause
    throw new UnknownDatabaseError(`no local store or connected peer had the manifest of ${address} in time; connect to a peer that has it (didbase.dial) and try again`, { cause })
  }
  const m = value as Partial<Manifest> | null
  if (m === null || typeof m !== 'object' || typeof m.name !== 'string' || typeof m.accessController !== 'string') {
    throw new UnsupportedDatabaseError(`${address} is not an OrbitDB database manifest`)
  }
  const acType = m.accessController.split('/', 2).pop() ?? ''
  if (!ACCESS_TYPES.includes(acType) || (m.meta as Partial<DidbaseMeta> | undefined)?.didbase !== 1) {
    throw new UnsupportedDatabaseError(`${address} was not created by didbase (access controller "${acType}"); its writers cannot be verified by DID`)
  }
  if (!DATABASE_TYPES.includes(m.type as DatabaseType)) {
    throw new UnsupportedDatabaseError(`${address} has unknown database type "${String(m.type)}"`)
  }
  return m as Manifest
}
