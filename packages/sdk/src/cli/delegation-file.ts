/**
 * A data directory's delegation: when its key acts for another user DID (a device key
 * delegated by a root did:key), `delegation.json` holds the delegation, and every command
 * signs for that user. The root's directory lists the devices it delegated to in
 * `devices.json`. Read without verifying here (that is the replicas' job, and `device use`
 * checks a token before saving it), so `didbase id` stays free of networking code.
 */
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ConfigError } from './errors.js'

export const DELEGATION_FILE = 'delegation.json'
export const DEVICES_FILE = 'devices.json'

export interface DelegationFile {
  /** The user DID this directory's key writes for. */
  user: string
  /** The delegation's links, the user's first (did-jwt JWS strings or CACAOs). */
  proof: Array<string | Record<string, unknown>>
}

export interface DeviceRecord {
  did: string
  expiresAt: number
  scope: string[]
  issuedAt: number
}

async function readJson (path: string): Promise<unknown> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') return undefined
    throw err
  }
  try {
    return JSON.parse(text)
  } catch (cause) {
    throw new ConfigError(`${path} is not JSON`, { cause })
  }
}

export async function readDelegation (dir: string): Promise<DelegationFile | undefined> {
  const value = await readJson(join(dir, DELEGATION_FILE)) as Partial<DelegationFile> | undefined
  if (value === undefined) return undefined
  if (typeof value.user !== 'string' || !Array.isArray(value.proof) || value.proof.length === 0) throw new ConfigError(`${join(dir, DELEGATION_FILE)} holds no delegation (user, proof)`)
  return value as DelegationFile
}

export async function writeDelegation (dir: string, file: DelegationFile): Promise<void> {
  await writeFile(join(dir, DELEGATION_FILE), `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 })
}

export async function readDevices (dir: string): Promise<DeviceRecord[]> {
  const value = await readJson(join(dir, DEVICES_FILE))
  return Array.isArray(value) ? value as DeviceRecord[] : []
}

export async function recordDevice (dir: string, device: DeviceRecord): Promise<void> {
  const devices = (await readDevices(dir)).filter((d) => d.did !== device.did)
  await writeFile(join(dir, DEVICES_FILE), `${JSON.stringify([...devices, device], null, 2)}\n`)
}
