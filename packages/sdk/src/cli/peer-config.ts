/**
 * The settings of `didbase peer`: its defaults and its JSON config file (`--config`). Read
 * before anything networked is imported, so a bad file is a usage error that starts nothing.
 */
import { readFile } from 'node:fs/promises'
import { ConfigError } from './errors.js'

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
