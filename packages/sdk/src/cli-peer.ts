/**
 * `didbase peer`: the always-on replicator as a command. Settings come from flags, then a
 * JSON config file (`--config`), then defaults; it logs one line per event (JSON lines with
 * `--json`) and stops cleanly on SIGINT or SIGTERM.
 */
import { readFile } from 'node:fs/promises'
import { type ReplicatorInit, startReplicator } from './replicator.js'

export const DEFAULT_PEER_LISTEN = ['/ip4/127.0.0.1/tcp/4001', '/ip4/127.0.0.1/tcp/4002/ws']

/** The config file's shape: every key optional; lists of strings. */
export interface PeerConfig {
  dir?: string
  listen?: string[]
  serve?: string[]
  peers?: string[]
  creators?: string[]
  relay?: boolean
}

export class ConfigError extends Error {
  override name = 'ConfigError'
}

const LIST_KEYS = ['listen', 'serve', 'peers', 'creators'] as const

export async function readPeerConfig (path: string): Promise<PeerConfig> {
  let value: unknown
  try {
    value = JSON.parse(await readFile(path, 'utf8'))
  } catch (err) {
    throw new ConfigError(`cannot read the config file ${path}: ${(err as Error).message}`)
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ConfigError(`${path} must hold a JSON object`)
  const config = value as Record<string, unknown>
  for (const [key, v] of Object.entries(config)) {
    if ((LIST_KEYS as readonly string[]).includes(key)) {
      if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) throw new ConfigError(`${path}: "${key}" must be a list of strings`)
    } else if (key === 'dir') {
      if (typeof v !== 'string') throw new ConfigError(`${path}: "dir" must be a string`)
    } else if (key === 'relay') {
      if (typeof v !== 'boolean') throw new ConfigError(`${path}: "relay" must be true or false`)
    } else {
      throw new ConfigError(`${path}: unknown key "${key}" (known: dir, ${LIST_KEYS.join(', ')}, relay)`)
    }
  }
  return config as PeerConfig
}

function line (json: boolean, event: string, detail: Record<string, unknown>): string {
  const time = new Date().toISOString()
  if (json) return JSON.stringify({ time, event, ...detail })
  return `${time} ${event.padEnd(9)} ${Object.entries(detail).map(([k, v]) => `${k}=${String(v)}`).join(' ')}`
}

/** Run until SIGINT or SIGTERM, then close every database and stop. */
export async function runPeer (init: Omit<ReplicatorInit, 'log'>, json: boolean): Promise<void> {
  const log = (event: string, detail: Record<string, unknown>): void => { console.log(line(json, event, detail)) }
  const stopped = new Promise<string>((resolve) => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => resolve(signal))
  })
  const replicator = await startReplicator({ ...init, log })
  const signal = await stopped
  log('stopping', { signal })
  await replicator.stop()
  log('stopped', {})
}
