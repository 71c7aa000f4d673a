/** Fetching what a policy needs from the block store: its policy block, entries of the past, schemas. Every fetch has a deadline. */
import { type Schema, schemaFromDocument } from '@didbase/schemas'
import { logger } from '@libp2p/logger'
import type { CID } from 'multiformats/cid'
import type { EntryLike } from '../identity/entry.js'
import { InvalidPolicyError } from '../errors.js'
import type { LoadedEntry } from '../judge/judge.js'
import { type BlockstoreLike, getBlock, parseCid } from '../policy/blocks.js'
import { ACCESS_TYPES, type PolicyBlock, policyBlock } from '../policy/policy-block.js'

const FETCH_TIMEOUT = 30_000
const log = logger('didbase:fetch')

/** Options of a read of a block held here: Helia's blockstore then asks no peer (another store ignores `offline`). */
function localRead (stopping?: AbortSignal): { signal?: AbortSignal } {
  return { ...(stopping !== undefined ? { signal: stopping } : {}), offline: true } as { signal?: AbortSignal }
}

/**
 * Run `work` with a signal that aborts after `ms` (a `TimeoutError`), or as soon as
 * `stopping` aborts. The timer and the listener go as soon as `work` ends: an
 * `AbortSignal.timeout` would live (with what listens to it) its full time after every
 * fetch, thousands of live timers under a flood of entries whose past must be fetched.
 */
export async function withDeadline<T> (ms: number, stopping: AbortSignal | undefined, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController()
  const timer = setTimeout(() => { controller.abort(new DOMException(`no answer in ${ms} ms`, 'TimeoutError')) }, ms)
  const stop = (): void => { controller.abort(stopping?.reason) }
  if (stopping?.aborted === true) stop()
  else stopping?.addEventListener('abort', stop, { once: true })
  try {
    return await work(controller.signal)
  } finally {
    clearTimeout(timer)
    stopping?.removeEventListener('abort', stop)
  }
}

/** A fetch from peers that gives up after 30 s, or as soon as `stopping` aborts (`withDeadline`). */
export async function withFetchDeadline<T> (stopping: AbortSignal | undefined, fetch: (signal: AbortSignal) => Promise<T>): Promise<T> {
  return withDeadline(FETCH_TIMEOUT, stopping, fetch)
}

/** Fetch a schema document by CID (hash-checked). Throws `InvalidSchemaError` for one didbase cannot check. */
export async function fetchSchema (blockstore: BlockstoreLike, cid: CID, stopping?: AbortSignal): Promise<Schema> {
  return schemaFromDocument(await withFetchDeadline(stopping, async (signal) => await getBlock(blockstore, cid, { signal })))
}

/** The schema a policy block names, as an `InvalidPolicyError` when it cannot be had or used. */
export async function policySchema (blockstore: BlockstoreLike, cid: CID): Promise<Schema> {
  try {
    return await fetchSchema(blockstore, cid)
  } catch (cause) {
    throw new InvalidPolicyError(`schema block ${cid} could not be read or is not a schema didbase can check: ${(cause as Error).message}`, { cause })
  }
}

/** Fetch and check the policy block an access-controller address names (`/didbase-acl/<cid>`). */
export async function loadPolicy (blockstore: BlockstoreLike, address: string): Promise<PolicyBlock> {
  const [, type, hash] = address.split('/')
  const cid = hash === undefined ? undefined : parseCid(hash)
  if (type === undefined || !ACCESS_TYPES.includes(type) || cid === undefined) {
    throw new InvalidPolicyError(`${address} is not a didbase policy address`)
  }
  let value: unknown
  try {
    value = await withFetchDeadline(undefined, async (signal) => await getBlock(blockstore, cid, { signal }))
  } catch (cause) {
    throw new InvalidPolicyError(`policy block ${hash} could not be read or does not match its CID`, { cause })
  }
  const policy = policyBlock(value, `policy block ${hash}`)
  if (policy.type !== type) throw new InvalidPolicyError(`policy block ${hash} is a ${policy.type} policy, not ${type}`)
  return policy
}

/** The clock of an entry held in the local store, read without asking peers; undefined when it is not held. */
export function localClockReader (blockstore: BlockstoreLike): (hash: string) => Promise<number | undefined> {
  return async (hash) => {
    const cid = parseCid(hash)
    if (cid === undefined || blockstore.has === undefined || !(await blockstore.has(cid))) return undefined
    // Held here: read it from here only, with no deadline (a timeout signal would outlive the read by 30 s).
    const value = await getBlock(blockstore, cid, localRead()).catch(() => undefined)
    const time = (value as { clock?: { time?: unknown } } | undefined)?.clock?.time
    return typeof time === 'number' ? time : Number.NaN
  }
}

/** Entries fetched from peers to be judged, remembered until judged: a refused one's block is deleted again. */
const FETCHED_REMEMBERED = 65_536

export interface EntryLoader {
  (hash: string): Promise<LoadedEntry>
  /** A judged entry was refused: if its block came from a peer to be judged, delete it (a refused entry is never stored). */
  refused: (hash: string) => void
  /** A judged entry was accepted: its block stays. */
  accepted: (hash: string) => void
}

/** Load entries of the causal past by hash (the judge turns a failure into `unavailable`). */
export function entryLoader (blockstore: BlockstoreLike, stopping: AbortSignal): EntryLoader {
  const fetched = new Set<string>()
  const load = async (hash: string): Promise<LoadedEntry> => {
    const cid = parseCid(hash)
    if (cid === undefined) throw new TypeError(`${JSON.stringify(hash)} is not an entry hash`)
    const held = blockstore.has !== undefined && await blockstore.has(cid)
    if (blockstore.has !== undefined && !held) {
      if (fetched.size >= FETCHED_REMEMBERED) fetched.delete(fetched.values().next().value as string)
      fetched.add(hash)
    }
    // A deadline only for what peers must send: a block held here is read without one.
    const value = held ? await getBlock(blockstore, cid, localRead(stopping)) : await withFetchDeadline(stopping, async (signal) => await getBlock(blockstore, cid, { signal }))
    if (typeof value !== 'object' || value === null) throw new TypeError(`block ${hash} is not an entry`)
    return { ...(value as EntryLike), hash }
  }
  return Object.assign(load, {
    refused: (hash: string): void => {
      if (!fetched.delete(hash)) return
      const cid = parseCid(hash)
      // Best effort: a block left behind is only disk, never a verdict.
      if (cid !== undefined) Promise.resolve(blockstore.delete?.(cid)).catch((err) => { log('could not delete refused entry %s: %e', hash, err) })
    },
    accepted: (hash: string): void => { fetched.delete(hash) }
  })
}
