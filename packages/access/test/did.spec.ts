import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import {
  createDidKeyIdentity,
  Did,
  didOfPublicKey,
  IDENTITY_FILE,
  InvalidDidError,
  InvalidKeyError,
  loadOrCreateIdentity,
  publicKeyOfDid
} from '../src/index.js'
import { verify as verifyEd25519 } from '../src/did/ed25519.js'

describe('did:key', () => {
  it('round-trips a public key through its DID', () => {
    const id = createDidKeyIdentity()
    expect(id.did).toMatch(/^did:key:z6Mk[1-9A-HJ-NP-Za-km-z]+$/)
    expect(publicKeyOfDid(id.did)).toEqual(id.publicKey)
    expect(didOfPublicKey(id.publicKey)).toBe(id.did)
  })

  it('derives the same DID from the same seed', () => {
    const seed = new Uint8Array(32).fill(7)
    expect(createDidKeyIdentity({ seed }).did).toBe(createDidKeyIdentity({ seed }).did)
    expect(createDidKeyIdentity({ seed: new Uint8Array(32).fill(8) }).did).not.toBe(createDidKeyIdentity({ seed }).did)
  })

  it('signs with native Ed25519 and verifies only the signed bytes', async () => {
    const id = createDidKeyIdentity()
    const data = new TextEncoder().encode('hello')
    const sig = await id.sign(data)
    expect(await verifyEd25519(id.publicKey, data, sig)).toBe(true)
    expect(await verifyEd25519(id.publicKey, new TextEncoder().encode('hellO'), sig)).toBe(false)
    expect(await verifyEd25519(createDidKeyIdentity().publicKey, data, sig)).toBe(false)
    expect(await verifyEd25519(id.publicKey, data, sig.subarray(1))).toBe(false)
  })

  it.each([
    ['empty', ''],
    ['not a DID', 'alice'],
    ['another method', 'did:web:example.com'],
    ['not base58btc', 'did:key:mAAAA'],
    ['bad base58', 'did:key:z0OIl'],
    ['not Ed25519 (secp256k1)', 'did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme'],
    ['truncated key', createDidKeyIdentity().did.slice(0, -4)]
  ])('rejects %s with InvalidDidError', (_, did) => {
    expect(() => Did.parse(did)).toThrow(InvalidDidError)
    expect(Did.is(did)).toBe(false)
  })

  it('rejects a seed of the wrong length', () => {
    expect(() => createDidKeyIdentity({ seed: new Uint8Array(31) })).toThrow(InvalidKeyError)
  })
})

describe('identity file', () => {
  const dirs: string[] = []
  afterEach(async () => {
    await Promise.all(dirs.splice(0).map(async (d) => rm(d, { recursive: true, force: true })))
  })
  const dir = async (): Promise<string> => {
    const d = await mkdtemp(join(tmpdir(), 'didbase-id-'))
    dirs.push(d)
    return d
  }

  it('persists with mode 0600 and reloads the same DID', async () => {
    const d = await dir()
    const first = await loadOrCreateIdentity(d)
    expect((await stat(join(d, IDENTITY_FILE))).mode & 0o777).toBe(0o600)
    const again = await loadOrCreateIdentity(d)
    expect(again.did).toBe(first.did)
  })

  it('refuses a file whose DID does not match its seed, and never overwrites it', async () => {
    const d = await dir()
    await loadOrCreateIdentity(d)
    const path = join(d, IDENTITY_FILE)
    const body = JSON.parse(await readFile(path, 'utf8'))
    body.did = createDidKeyIdentity().did
    await writeFile(path, JSON.stringify(body))
    await expect(loadOrCreateIdentity(d)).rejects.toMatchObject({ name: 'InvalidKeyError' })
    expect(JSON.parse(await readFile(path, 'utf8')).did).toBe(body.did)
  })

  it('refuses a corrupt file with a message that says what to do', async () => {
    const d = await dir()
    await writeFile(join(d, IDENTITY_FILE), '{not json')
    await expect(loadOrCreateIdentity(d)).rejects.toThrow(/not valid JSON/)
  })
})
