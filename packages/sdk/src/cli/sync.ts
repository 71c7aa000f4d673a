/**
 * `didbase sync <address> --peer <multiaddr>`: fetch a database from one peer and keep it
 * on disk, with a progress bar while catching up. Done when the peer has exchanged heads
 * and everything it sent is checked and applied; fails if the peer goes quiet.
 */
import { multiaddr } from '@multiformats/multiaddr'
import cliProgress from 'cli-progress'
import type { Didbase } from '../didbase.js'
import { PeerUnreachableError, SyncTimeoutError } from './errors.js'

/** Give up when the peer has sent nothing for this long. */
export const SYNC_IDLE_TIMEOUT = 30_000

export interface SyncResult {
  address: string
  peer: string
  /** Entries in the local copy now. */
  entries: number
  heads: string[]
  ms: number
}

export async function syncFromPeer (didbase: Didbase, address: string, peer: string, progress: 'bar' | 'json' | 'none'): Promise<SyncResult> {
  const started = Date.now()
  try {
    await didbase.dial(peer)
  } catch (err) {
    throw new PeerUnreachableError(`could not reach ${peer}: ${(err as Error).message}. Is a didbase peer running there?`)
  }
  const remote = multiaddr(peer).getComponents().find((c) => c.name === 'p2p')?.value
  const db = await didbase.open(address)
  const bar = progress === 'bar'
    ? new cliProgress.SingleBar({ format: 'syncing [{bar}] {value}/{total} entries | {eta_formatted} left', noTTYOutput: true, notTTYSchedule: 1000, clearOnComplete: true }, cliProgress.Presets.shades_classic)
    : undefined
  let barShown = false
  // The peer has a deadline only while it is quiet: a long catch-up keeps it alive.
  const quiet = new AbortController()
  let idle: NodeJS.Timeout | undefined
  const stillTalking = (): void => {
    clearTimeout(idle)
    idle = setTimeout(() => quiet.abort(new SyncTimeoutError(`${peer} sent nothing for ${SYNC_IDLE_TIMEOUT / 1000} s; does it have ${address} open?`)), SYNC_IDLE_TIMEOUT)
  }
  db.addEventListener('update', stillTalking)
  db.addEventListener('sync:progress', (e) => {
    stillTalking()
    if (bar !== undefined) {
      if (!barShown) bar.start(e.detail.expected, e.detail.received)
      barShown = true
      bar.setTotal(e.detail.expected)
      bar.update(e.detail.received)
    } else if (progress === 'json') {
      console.error(JSON.stringify({ event: 'progress', ...e.detail }))
    }
  })
  stillTalking()
  try {
    await db.whenSynced({ ...(remote !== undefined ? { peerId: remote } : {}), signal: quiet.signal })
  } finally {
    clearTimeout(idle)
    bar?.stop()
  }
  const entries = await db.size()
  return { address, peer, entries, heads: await db.heads(), ms: Date.now() - started }
}
