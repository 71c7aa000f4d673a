/**
 * What a didbase node needs from the platform, in Node: TCP and WebSockets, and data
 * directories on disk. The browser build (platform.browser.ts) differs; the
 * `browser` field of package.json swaps it in for bundlers.
 */
import { circuitRelayTransport } from '@libp2p/circuit-relay-v2'
import type { Libp2p, PeerDiscovery, Transport } from '@libp2p/interface'
import { tcp } from '@libp2p/tcp'
import { webSockets } from '@libp2p/websockets'
import { access, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { browserDiscovery } from './discovery.js'
import type { IceServer } from './helia-node.js'

export const DEFAULT_LISTEN = ['/ip4/127.0.0.1/tcp/0']

/** Where a node keeps its data when none is given. */
export const DEFAULT_DIRECTORY = './.didbase'

// The relay transport lets a node dial, and listen on, `/p2p-circuit` addresses.
export function transports (_init: { iceServers?: IceServer[] }): Array<(components: any) => Transport> {
  return [tcp(), webSockets(), circuitRelayTransport()]
}

/** Node peers relay browsers' announcements without announcing themselves. */
export function peerDiscovery (): Array<(components: any) => PeerDiscovery> {
  return [browserDiscovery()]
}

/** Nothing to do in Node: peers are dialed by address. */
export function meetPeers (_libp2p: Libp2p): void {}

export function joinPath (...parts: string[]): string {
  return join(...parts)
}

/** Whether a store (a LevelDB directory) was made at `path` by an earlier run. */
export async function storeExists (path: string): Promise<boolean> {
  return access(path).then(() => true, () => false)
}

/** The addresses of the databases OrbitDB keeps stores for under `orbitdbDirectory`. */
export async function listStores (orbitdbDirectory: string): Promise<string[]> {
  const names = await readdir(join(orbitdbDirectory, 'orbitdb')).catch(() => [] as string[])
  return names.map((name) => `/orbitdb/${name}`)
}

export async function prepareDirectory (directory: string): Promise<void> {
  await mkdir(directory, { recursive: true })
}

/** Nothing to take in Node: LevelDB's own lock refuses a second node on a directory. */
export async function lockDirectory (_directory: string): Promise<() => void> {
  return () => {}
}

/** A fresh directory for a throwaway node, removed by `removeTemporary`. */
export async function temporaryDirectory (): Promise<string> {
  return mkdtemp(join(tmpdir(), 'didbase-'))
}

export async function removeTemporary (directory: string): Promise<void> {
  await rm(directory, { recursive: true, force: true })
}
