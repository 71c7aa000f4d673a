/**
 * What a didbase node needs from the platform, in browsers: WebSockets to reach always-on
 * peers, WebRTC to reach other browsers (signalled through a peer's circuit relay), and
 * IndexedDB for data. The `level` stores under OrbitDB, Helia and libp2p open IndexedDB
 * databases named after their paths, so a "directory" is a name prefix here.
 */
import { circuitRelayTransport } from '@libp2p/circuit-relay-v2'
import type { Libp2p, PeerDiscovery, Transport } from '@libp2p/interface'
import { webRTC } from '@libp2p/webrtc'
import { webSockets } from '@libp2p/websockets'
import { browserDiscovery } from './discovery.js'
import { DirectoryInUseError } from '../errors.js'
import type { IceServer } from './helia-node.js'
import { debugLog } from '../log.js'

const log = debugLog('browser')

/** Accept relayed connections, and WebRTC connections set up through them. */
export const DEFAULT_LISTEN = ['/p2p-circuit', '/webrtc']

export const DEFAULT_DIRECTORY = 'didbase'

export function transports (init: { iceServers?: IceServer[] }): Array<(components: any) => Transport> {
  const rtc = init.iceServers !== undefined ? { rtcConfiguration: { iceServers: init.iceServers } } : {}
  return [webSockets(), webRTC(rtc), circuitRelayTransport()]
}

/** How often a browser announces its addresses (through the peers it is connected to). */
const ANNOUNCE_MS = 5_000
/** Browsers this one keeps direct connections with, at most. */
const MAX_BROWSER_CONNECTIONS = 16

export function peerDiscovery (): Array<(components: any) => PeerDiscovery> {
  return [browserDiscovery(ANNOUNCE_MS)]
}

/**
 * Dial the browsers that announce a WebRTC address (`<relay>/p2p-circuit/webrtc/p2p/<id>`):
 * the relay carries only the WebRTC handshake; the data then flows browser to browser, and
 * keeps flowing when the relay goes away.
 */
export function meetPeers (libp2p: Libp2p): void {
  libp2p.addEventListener('peer:discovery', (event) => {
    const { id, multiaddrs } = event.detail
    const webrtc = multiaddrs.filter((ma) => ma.toString().includes('/p2p-circuit/webrtc/'))
    if (webrtc.length === 0 || libp2p.getConnections(id).length > 0) return
    const browsers = libp2p.getConnections().filter((c) => c.remoteAddr.toString().includes('/webrtc')).length
    if (browsers >= MAX_BROWSER_CONNECTIONS) return
    // A browser that went away or cannot be reached is simply not connected.
    libp2p.dial(webrtc).catch((err) => { log('no WebRTC connection to %p: %e', id, err) })
  })
}

export function joinPath (...parts: string[]): string {
  return parts.join('/').replace(/\/{2,}/g, '/')
}

/** The addresses of the databases OrbitDB keeps stores for under `orbitdbDirectory` (IndexedDB databases named after their paths). */
export async function listStores (orbitdbDirectory: string): Promise<string[]> {
  const prefix = joinPath(orbitdbDirectory, 'orbitdb/')
  const addresses = new Set<string>()
  for (const { name } of await indexedDB.databases()) {
    const at = name?.indexOf(prefix) ?? -1
    if (name === undefined || at < 0) continue
    const cid = name.slice(at + prefix.length).split('/')[0]
    if (cid !== undefined && cid.length > 0) addresses.add(`/orbitdb/${cid}`)
  }
  return [...addresses]
}

export async function prepareDirectory (_directory: string): Promise<void> {}

/** Whether a store (an IndexedDB database named after `path`) was made by an earlier run. */
export async function storeExists (path: string): Promise<boolean> {
  const databases = await indexedDB.databases()
  return databases.some((d) => d.name?.includes(path) === true)
}

/**
 * Hold a Web Lock on the directory for the node's life. IndexedDB does not refuse a second
 * opener as LevelDB does, and two tabs on one directory would be one DID and one peer id
 * twice, each rewriting the other's heads. Resolves to the release.
 */
export async function lockDirectory (directory: string): Promise<() => void> {
  const locks = globalThis.navigator?.locks
  if (locks === undefined) return () => {}
  let release: () => void = () => {}
  const held = new Promise<void>((resolve) => { release = resolve })
  const acquired = await new Promise<boolean>((resolve, reject) => {
    locks.request(`didbase:${directory}`, { ifAvailable: true }, async (lock) => {
      resolve(lock !== null)
      if (lock !== null) await held
    }).catch(reject)
  })
  if (!acquired) throw new DirectoryInUseError(`another tab or window of this site runs didbase on "${directory}"; close it, or give this one another directory`)
  return release
}

export async function temporaryDirectory (): Promise<string> {
  return `didbase-tmp-${globalThis.crypto.randomUUID()}`
}

/** Delete the IndexedDB databases a throwaway node made (all their names hold its prefix). */
export async function removeTemporary (directory: string): Promise<void> {
  const databases = await indexedDB.databases()
  await Promise.all(databases.filter((d) => d.name?.includes(directory) === true).map(async (d) => {
    await new Promise<void>((resolve) => {
      const request = indexedDB.deleteDatabase(d.name as string)
      request.onsuccess = () => { resolve() }
      request.onerror = () => { resolve() }
      request.onblocked = () => { resolve() }
    })
  }))
}
