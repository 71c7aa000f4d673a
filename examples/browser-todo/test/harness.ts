/**
 * Real parts for the browser test: the example's own server process (peer + page), and a
 * real Chromium (see find-chromium.ts for which) driven by playwright-core, one persistent
 * profile per "person".
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { mkdir, mkdtemp } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { chromium, type BrowserContext, type Page } from 'playwright-core'
import { type FoundChromium, findChromium } from './find-chromium.ts'

export const EXAMPLE = fileURLToPath(new URL('..', import.meta.url))
/** Screenshots of every step; CI keeps this folder as an artifact (see the README). */
export const SCREENSHOTS = join(EXAMPLE, 'screenshots')
// A closed network: without the background-networking flags Chromium keeps dialing Google.
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync']

export async function build (): Promise<void> {
  const vite = join(EXAMPLE, '..', '..', 'node_modules', '.bin', 'vite')
  await new Promise<void>((resolve, reject) => {
    execFile(vite, ['build', '--logLevel', 'warn'], { cwd: EXAMPLE }, (err, _out, stderr) => { err === null ? resolve() : reject(new Error(`vite build failed: ${stderr}`)) })
  })
}

/** A port nobody listens on now, so a restarted server can take the same one again. */
export async function freePort (): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  await new Promise((resolve) => server.close(resolve))
  if (typeof address !== 'object' || address === null) throw new Error('no port')
  return address.port
}

export class Server {
  readonly dir: string
  readonly httpPort: number
  readonly peerPort: number
  #child: ChildProcess | undefined
  url = ''

  constructor (dir: string, httpPort: number, peerPort: number) {
    this.dir = dir
    this.httpPort = httpPort
    this.peerPort = peerPort
  }

  /** Start `server/serve.ts` and wait for its line saying where it listens. */
  async start (): Promise<void> {
    const child = spawn(process.execPath, ['--experimental-strip-types', '--no-warnings', 'server/serve.ts',
      '--dir', this.dir, '--http-port', String(this.httpPort), '--peer-port', String(this.peerPort)], { cwd: EXAMPLE, stdio: ['ignore', 'pipe', 'inherit'] })
    this.#child = child
    const first = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout as NodeJS.ReadableStream }).once('line', resolve)
      child.once('exit', (code) => { reject(new Error(`server/serve.ts exited with ${code} before listening`)) })
    })
    this.url = (JSON.parse(first) as { url: string }).url
  }

  /** SIGINT, as a person stopping it would; resolves once it exited. */
  async stop (): Promise<void> {
    const child = this.#child
    if (child === undefined || child.exitCode !== null) return
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGINT')
    await exited
  }
}

export interface Person {
  context: BrowserContext
  page: Page
  /** Errors the page threw or logged: a test fails on any it did not expect. */
  errors: string[]
}

let found: Promise<FoundChromium> | undefined
let announced = false
async function theChromium (): Promise<FoundChromium> {
  found ??= findChromium()
  return found
}

/** Chromium with its own profile directory: its own IndexedDB, so its own DID. */
export async function openBrowser (profile: string): Promise<Person> {
  const browser = await theChromium()
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: browser.executablePath, headless: true, args: CHROMIUM_ARGS, env: { ...process.env, ...browser.env }
  })

  // The page runs under a strict Content-Security-Policy (no eval): report any violation.
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => { console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`) })
  })
  const page = context.pages()[0] ?? await context.newPage()
  if (!announced) {
    announced = true
    const userAgent = await page.evaluate(() => navigator.userAgent)
    console.log(JSON.stringify({ browser: browser.source, executablePath: browser.executablePath, userAgent }))
  }
  const errors: string[] = []
  page.on('pageerror', (err) => errors.push(err.message))
  page.on('console', (msg) => { if (msg.text().startsWith('CSP violation')) errors.push(msg.text()) })
  return { context, page, errors }
}

export async function profileDir (name: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `didbase-browser-${name}-`))
}

let shot = 0
export async function screenshot (page: Page, name: string): Promise<void> {
  await mkdir(SCREENSHOTS, { recursive: true })
  await page.screenshot({ path: join(SCREENSHOTS, `${String(++shot).padStart(2, '0')}-${name}.png`), fullPage: true })
}

/** Wait for the page's text at `selector` to satisfy `ok`; fail saying what it showed. */
export async function waitForText (page: Page, selector: string, ok: (text: string) => boolean, what: string, timeout = 30_000): Promise<string> {
  const deadline = Date.now() + timeout
  let text = ''
  while (Date.now() < deadline) {
    text = (await page.textContent(selector)) ?? ''
    if (ok(text)) return text
    await page.waitForTimeout(100)
  }
  throw new Error(`timed out after ${timeout} ms waiting for ${what}; ${selector} shows "${text}"`)
}
