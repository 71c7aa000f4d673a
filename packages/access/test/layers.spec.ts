/**
 * The folders of src/ are layers: a file imports from its own folder and from the layers
 * below it, never from one above, nor from another folder of its own layer. So the rules
 * and the fold know nothing of the judge, the judge nothing of OrbitDB, and private-database
 * logic is reached from above only. Reads the sources, so a type-only import counts too.
 * A new folder (or file at the top of src/) fails here until it is given a layer.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { posix } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'

const SRC = fileURLToPath(new URL('../src/', import.meta.url))

/** Bottom to top: a folder (or a file at the top of src/) per name. */
const LAYERS: ReadonlyArray<readonly string[]> = [
  // The typed errors every layer throws.
  ['errors.ts'],
  // did:key DIDs, Ed25519 on every platform, and the identity a seed makes.
  ['did'],
  // Device and wallet delegation chains: made and checked.
  ['delegation'],
  // Identities that sign: the key file, delegated identities, kept sessions, entry signatures, OrbitDB's identities layer.
  ['identity'],
  // The rules' vocabulary and the fold: policy blocks, operations, the access state, bounds and links, key-share shapes.
  ['policy'],
  // Private databases (keys, epochs, sealing, key holders); invites. Neither imports the other.
  ['private', 'invite'],
  // The verdict on an entry from its causal past.
  ['judge'],
  // The OrbitDB access controllers over the judge.
  ['controller'],
  // The entry points: `@didbase/access/identity` and `/internal`, then the main one (it re-exports the identity half).
  ['identity-entry.ts', 'internal.ts'],
  ['index.ts']
]

/** The layer of a path relative to src/: its folder, or the file itself at the top. */
function unitOf (path: string): string {
  return path.includes('/') ? (path.split('/')[0] as string) : path
}

function rankOf (unit: string): number {
  return LAYERS.findIndex((layer) => layer.includes(unit))
}

/** What each file of `files` (path relative to src/ → text) imports that its layer may not. */
function violations (files: ReadonlyMap<string, string>): string[] {
  const found: string[] = []
  for (const [path, text] of files) {
    const from = unitOf(path)
    for (const { fileName: specifier } of ts.preProcessFile(text, true, true).importedFiles) {
      if (!specifier.startsWith('.')) continue
      const target = posix.normalize(posix.join(posix.dirname(path), specifier)).replace(/\.js$/, '.ts')
      if (target.startsWith('../')) {
        found.push(`${path} imports ${specifier}, outside src/`)
        continue
      }
      const to = unitOf(target)
      if (to === from) continue
      const rank = rankOf(from)
      const other = rankOf(to)
      if (other === -1) found.push(`${path} imports ${specifier}: ${to} has no layer`)
      else if (other > rank) found.push(`${path} imports ${specifier}: ${to} is above ${from}`)
      else if (other === rank) found.push(`${path} imports ${specifier}: ${to} and ${from} are one layer and may not import each other`)
    }
  }
  return found
}

function sources (): Map<string, string> {
  const files = new Map<string, string>()
  for (const entry of readdirSync(SRC, { recursive: true, encoding: 'utf8' })) {
    const path = entry.split('\\').join('/')
    if (path.endsWith('.ts')) files.set(path, readFileSync(`${SRC}${path}`, 'utf8'))
  }
  return files
}

describe('@didbase/access in layers', () => {
  const files = sources()

  it('places every folder and top-level file of src/ in exactly one layer', () => {
    const units = new Set([...files.keys()].map(unitOf))
    const placed = LAYERS.flat()
    expect([...units].filter((u) => rankOf(u) === -1), 'give these a layer in LAYERS').toEqual([])
    expect(placed.filter((u) => !units.has(u)), 'these are in LAYERS but not in src/').toEqual([])
    expect(new Set(placed).size).toBe(placed.length)
  })

  it('imports nothing from a layer above, nor across one layer', () => {
    expect(files.size).toBeGreaterThan(40)
    expect(violations(files)).toEqual([])
  })

  it('catches an import upwards, across a layer, and a type-only one', () => {
    const planted = new Map([
      ['policy/acl-state.ts', "import { Judge } from '../judge/judge.js'\nexport { Judge }\n"],
      ['private/keyring.ts', "import {\n  createInvite\n} from '../invite/invite.js'\n"],
      ['judge/rules.ts', "import type { AccessPolicy } from '../controller/controller.js'\nimport { membersOf } from '../policy/acl-state.js'\n"],
      ['did/did.ts', "export { Keyring } from '../private/keyring.js'\n"]
    ])
    expect(violations(planted)).toEqual([
      "policy/acl-state.ts imports ../judge/judge.js: judge is above policy",
      "private/keyring.ts imports ../invite/invite.js: invite and private are one layer and may not import each other",
      "judge/rules.ts imports ../controller/controller.js: controller is above judge",
      "did/did.ts imports ../private/keyring.js: private is above did"
    ])
  })
})
