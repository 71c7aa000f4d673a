/**
 * Which Chromium the browser tests drive, in this order: `CHROMIUM_PATH`; a Chromium or
 * Chrome installed on the machine; the Linux Chromium that `npm install` brought inside the
 * `@sparticuz/chromium` devDependency (no download at install time, so it works on a closed
 * network). A machine with none of them gets one error that names `CHROMIUM_PATH`.
 */
import { constants } from 'node:fs'
import { access, readFile, rm, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { delimiter, dirname, join } from 'node:path'

export interface FoundChromium {
  executablePath: string
  /** Where it came from, for the test's log line. */
  source: 'CHROMIUM_PATH' | 'system' | '@sparticuz/chromium'
  /** Environment the browser needs beyond the test's own. */
  env: Record<string, string>
}

export class NoChromiumError extends Error {
  static override name = 'NoChromiumError'
  override name = 'NoChromiumError'
}

const SYSTEM_PATHS = [
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome',
  '/usr/bin/google-chrome-stable',
  '/snap/bin/chromium',
  '/Applications/Chromium.app/Contents/MacOS/Chromium',
  '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome'
]
const SYSTEM_NAMES = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable']

async function executable (path: string): Promise<boolean> {
  return access(path, constants.X_OK).then(() => true, () => false)
}

/** Where to look; tests narrow it to show what a machine without a browser is told. */
export interface Machine {
  env: Record<string, string | undefined>
  systemPaths: readonly string[]
  platform: NodeJS.Platform
  arch: string
}

const THIS_MACHINE: Machine = { env: process.env, systemPaths: SYSTEM_PATHS, platform: process.platform, arch: process.arch }

async function systemChromium (machine: Machine): Promise<string | undefined> {
  const onPath = (machine.env.PATH ?? '').split(delimiter).filter((dir) => dir !== '')
    .flatMap((dir) => SYSTEM_NAMES.map((name) => join(dir, name)))
  for (const path of [...machine.systemPaths, ...onPath]) {
    if (await executable(path)) return path
  }
  return undefined
}

/**
 * @sparticuz/chromium inflates its binary into `os.tmpdir()/chromium` and trusts any file
 * already there. A run cut off mid-inflate would leave a truncated binary behind, so we note
 * a finished inflate beside it and inflate again when the note is missing or from another
 * version.
 */
async function bundledChromium (machine: Machine): Promise<FoundChromium | undefined> {
  if (machine.platform !== 'linux' || (machine.arch !== 'x64' && machine.arch !== 'arm64')) return undefined
  const require = createRequire(import.meta.url)
  let version: string
  try {
    // Its exports hide package.json: find it beside the resolved entry (build/index.js).
    const entry = require.resolve('@sparticuz/chromium')
    version = (JSON.parse(await readFile(join(dirname(entry), '..', 'package.json'), 'utf8')) as { version: string }).version
  } catch {
    return undefined
  }
  const { default: Chromium } = await import('@sparticuz/chromium')
  const binary = join(tmpdir(), 'chromium')
  const note = join(tmpdir(), 'chromium.didbase-inflated')
  let executablePath: string
  try {
    if (await readFile(note, 'utf8').catch(() => '') !== version) {
      await rm(binary, { force: true })
      await rm(note, { force: true })
    }
    executablePath = await Chromium.executablePath()
    await writeFile(note, version)
  } catch (cause) {
    throw new NoChromiumError(`could not unpack @sparticuz/chromium into ${tmpdir()}: ${(cause as Error).message}; set CHROMIUM_PATH to a Chromium or Chrome`, { cause })
  }
  // Its fonts come inflated beside it; a machine without system fonts renders with these.
  return { executablePath, source: '@sparticuz/chromium', env: { FONTCONFIG_PATH: machine.env.FONTCONFIG_PATH ?? join(tmpdir(), 'fonts') } }
}

export async function findChromium (machine: Machine = THIS_MACHINE): Promise<FoundChromium> {
  const fromEnv = machine.env.CHROMIUM_PATH
  if (fromEnv !== undefined && fromEnv !== '') {
    if (!await executable(fromEnv)) throw new NoChromiumError(`CHROMIUM_PATH is ${fromEnv}, which is not an executable file`)
    return { executablePath: fromEnv, source: 'CHROMIUM_PATH', env: {} }
  }
  const system = await systemChromium(machine)
  if (system !== undefined) return { executablePath: system, source: 'system', env: {} }
  const bundled = await bundledChromium(machine)
  if (bundled !== undefined) return bundled
  throw new NoChromiumError(`no Chromium or Chrome found on this ${machine.platform}/${machine.arch} machine, and no bundled one (the @sparticuz/chromium devDependency, Linux x64 and arm64 only, is not installed or does not fit): install Chromium or Chrome, or set CHROMIUM_PATH to its executable`)
}
