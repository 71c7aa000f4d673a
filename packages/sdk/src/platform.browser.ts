/**
 * What a didbase node needs from the platform, in browsers: WebSockets to reach always-on
 * peers, WebRTC to reach other browsers (signalled through a peer's circuit relay), and
 * IndexedDB for data. The `level` stores under OrbitDB, Helia and libp2p open IndexedDB
 * databases named after their paths, so a "directory" is a name prefix here.
 */
import { circuitRelayTransport } from '@libp2p/circuit-relay-v2'
import type { Transport } from '@libp2p/interface'
import { webRTC } from '@libp2p/webrtc'
import { webSockets } from '@libp2p/websockets'
import type { IceServer } from './node.js'

/** Accept relayed connections, and WebRTC connections set up through them. */
export const DEFAULT_LISTEN = ['/p2p-circuit', '/webrtc']

export const DEFAULT_DIRECTORY = 'didbase'

export function transports (init: { iceServers?: IceServer[] }): Array<(components: any) => Transport> {
  const rtc = init.iceServers !== undefined ? { rtcConfiguration: { iceServers: init.iceServers } } : {}
  return [webSockets(), webRTC(rtc), circuitRelayTransport()]
}

export function joinPath (...parts: string[]): string {
  return parts.join('/')
}

export async function prepareDirectory (_directory: string): Promise<void> {}

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
