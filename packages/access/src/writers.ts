/**
 * The fixed-writers policy: a set of DIDs (or anyone, `'*'`) fixed when the database is
 * created. The policy is a content-addressed block named in the manifest, so the database
 * address commits to it and every replica enforces the same set.
 */
import type { AccessControllerFactory, AccessControllerInstance, LogEntry } from '@orbitdb/core'
import { base58btc } from 'multiformats/bases/base58'
import { type BlockstoreLike, getBlock, parseCid, putBlock } from './blocks.js'
import { Did } from './did.js'
import { verifyEntry } from './entry.js'
import { EntryRejectedError, InvalidPolicyError } from './errors.js'

export const WRITERS_TYPE = 'didbase-writers'
export const ANYONE = '*'
const MAX_WRITERS = 10_000
const POLICY_FETCH_TIMEOUT = 30_000

export interface WritersPolicy {
  type: typeof WRITERS_TYPE
  /** Sorted, unique DIDs, or `['*']` for anyone. */
  writers: string[]
}

export interface DidWritersInit {
  /** DIDs allowed to write; `'*'` for anyone. Default: the creator's DID. */
  writers?: string[]
}

/** What the SDK asks a didbase controller before it signs a local write. */
export interface WritePolicy {
  canWrite: (did: string) => boolean
  readonly writers: readonly string[]
}

export type DidAccessController = AccessControllerInstance & WritePolicy

export function isDidAccessController (ac: unknown): ac is DidAccessController {
  return typeof (ac as DidAccessController)?.canWrite === 'function'
}

function normalise (writers: unknown): string[] {
  if (!Array.isArray(writers) || writers.length === 0) {
    throw new InvalidPolicyError('writers must be a non-empty list of DIDs or "*"')
  }
  if (writers.length > MAX_WRITERS) throw new InvalidPolicyError(`at most ${MAX_WRITERS} writers`)
  for (const w of writers) {
    if (w !== ANYONE) Did.parse(w as string)
  }
  const set = [...new Set(writers as string[])].sort()
  return set.includes(ANYONE) ? [ANYONE] : set
}

function blockstoreOf (params: Parameters<AccessControllerFactory>[0]): BlockstoreLike {
  return params.orbitdb.ipfs.blockstore as BlockstoreLike
}

async function loadPolicy (blockstore: BlockstoreLike, address: string): Promise<WritersPolicy> {
  const [, type, hash] = address.split('/')
  const cid = hash === undefined ? undefined : parseCid(hash)
  if (type !== WRITERS_TYPE || cid === undefined) {
    throw new InvalidPolicyError(`${address} is not a ${WRITERS_TYPE} policy address`)
  }
  let value: unknown
  try {
    value = await getBlock(blockstore, cid, { signal: AbortSignal.timeout(POLICY_FETCH_TIMEOUT) })
  } catch (cause) {
    throw new InvalidPolicyError(`policy block ${hash} could not be read or does not match its CID`, { cause })
  }
  const policy = value as Partial<WritersPolicy> | null
  if (policy?.type !== WRITERS_TYPE) throw new InvalidPolicyError(`policy block ${hash} is not a ${WRITERS_TYPE} policy`)
  return { type: WRITERS_TYPE, writers: normalise(policy.writers) }
}

/**
 * An OrbitDB access controller that lets a fixed set of DIDs write.
 *
 * @example
 * ```ts
 * await orbitdb.open('board', { AccessController: didWriters({ writers: [alice, bob] }) })
 * ```
 */
export function didWriters (init: DidWritersInit = {}): AccessControllerFactory {
  return async (params) => {
    const blockstore = blockstoreOf(params)
    let address = params.address
    let policy: WritersPolicy
    if (address !== undefined) {
      policy = await loadPolicy(blockstore, address)
    } else {
      policy = { type: WRITERS_TYPE, writers: normalise(init.writers ?? [params.orbitdb.identity.id]) }
      const cid = await putBlock(blockstore, policy)
      address = `/${WRITERS_TYPE}/${cid.toString(base58btc)}`
    }
    const writers = new Set(policy.writers)
    const canWrite = (did: string): boolean => writers.has(ANYONE) || writers.has(did)
    const controller: DidAccessController = {
      type: WRITERS_TYPE,
      address,
      writers: policy.writers,
      canWrite,
      canAppend: async (entry: LogEntry) => {
        const did = await verifyEntry(entry)
        if (!canWrite(did)) {
          throw new EntryRejectedError(entry.hash ?? '(unhashed)', did, 'not-a-writer', 'the DID is not a writer of this database')
        }
        return true
      }
    }
    return controller
  }
}
didWriters.type = WRITERS_TYPE
