/**
 * The packages as a dApp gets them: `npm pack` the three packages, install the tarballs into
 * a new project outside the repository (no workspace links), type-check an app and a page
 * with `skipLibCheck: false`, run the app (put, read back, replicate to a second node), run
 * the `didbase` command, and build the page with Vite. Runs after every other suite (its
 * own vitest project, see vitest.config.ts): the install is heavy, and needs the registry
 * only for what npm's cache lacks.
 */
import { execFile } from 'node:child_process'
import { cp, lstat, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { builtinModules, createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { delimiter, dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const REPO = fileURLToPath(new URL('..', import.meta.url))
const TEMPLATE = fileURLToPath(new URL('./consumer/', import.meta.url))
const PACKAGES = ['schemas', 'access', 'sdk'] as const
// Children run on the Node that runs the tests (the repository pins Node 22).
const ENV = { ...process.env, PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ''}` }
/** The Node.js lines didbase supports, each run here: the pinned one, and Node 24 (the root devDependency `node24`, an npm alias of `node`). */
const NODES: Array<[string, string]> = [[process.version, process.execPath], ['24', join(REPO, 'node_modules', 'node24', 'bin', 'node')]]
/** Node flags that make a process look like Node.js 20 to the code it runs (the real one is newer). */
const AS_NODE_20 = ['--import', `data:text/javascript,${encodeURIComponent("Object.defineProperty(process.versions, 'node', { value: '20.20.2' })")}`]

interface Run { stdout: string, stderr: string, ms: number }

async function run (cwd: string, command: string, args: string[], timeout = 300_000): Promise<Run> {
  const started = Date.now()
  return new Promise((resolve, reject) => {
    execFile(command, args, { cwd, env: ENV, timeout, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err !== null) reject(new Error(`${command} ${args.join(' ')} failed in ${cwd}: ${err.message}\n${stdout}\n${stderr}`))
      else resolve({ stdout, stderr, ms: Date.now() - started })
    })
  })
}

/** The version of a devDependency the repository has installed, so npm's cache has it. */
async function installedVersion (name: string): Promise<string> {
  const manifest = JSON.parse(await readFile(join(REPO, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }
  return manifest.version
}

let project = ''
let packs = ''

beforeAll(async () => {
  packs = await mkdtemp(join(tmpdir(), 'didbase-packs-'))
  project = await mkdtemp(join(tmpdir(), 'didbase-consumer-'))
  const packed = JSON.parse((await run(REPO, 'npm', ['pack', '--json', '--pack-destination', packs, ...PACKAGES.flatMap((p) => ['-w', `@didbase/${p}`])])).stdout) as Array<{ name: string, filename: string }>
  const tarball = (name: string): string => {
    const found = packed.find((p) => p.name === name)
    if (found === undefined) throw new Error(`npm pack made no tarball for ${name}`)
    return `file:${join(packs, found.filename)}`
  }
  await cp(TEMPLATE, project, { recursive: true })
  await writeFile(join(project, 'package.json'), JSON.stringify({
    name: 'didbase-consumer',
    private: true,
    type: 'module',
    dependencies: Object.fromEntries(PACKAGES.map((p) => [`@didbase/${p}`, tarball(`@didbase/${p}`)])),
    devDependencies: {
      '@types/node': await installedVersion('@types/node'),
      typescript: await installedVersion('typescript'),
      vite: await installedVersion('vite')
    },
    allowScripts: { 'classic-level': true }
  }, null, 2))
  const install = await run(project, 'npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'])
  console.log(JSON.stringify({ consumer: project, installMs: install.ms }))
}, 600_000)

afterAll(async () => {
  await rm(project, { recursive: true, force: true })
  await rm(packs, { recursive: true, force: true })
})

describe('a project outside the repository, installed from the packed tarballs', () => {
  it('has real copies of the packages (no workspace links), each exporting ./package.json', async () => {
    const require = createRequire(join(project, 'index.js'))
    for (const name of PACKAGES) {
      const dir = join(project, 'node_modules', '@didbase', name)
      expect((await lstat(dir)).isSymbolicLink()).toBe(false)
      expect((require(`@didbase/${name}/package.json`) as { name: string }).name).toBe(`@didbase/${name}`)
    }
  })

  it('declares every package its built code imports', async () => {
    const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]))
    const missing: string[] = []
    const seen = new Set<string>()
    for (const name of PACKAGES) {
      const dir = join(project, 'node_modules', '@didbase', name)
      const manifest = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> }
      const declared = new Set(Object.keys(manifest.dependencies ?? {}))
      for (const file of (await readdir(join(dir, 'dist'), { recursive: true })).filter((f) => f.endsWith('.js'))) {
        const code = await readFile(join(dir, 'dist', file), 'utf8')
        // Static imports and re-exports, side-effect imports, and dynamic imports.
        for (const m of code.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+'([^']+)'|(?:^|\n)\s*import\s+'([^']+)'|import\('([^']+)'\)/g)) {
          const specifier = m[1] ?? m[2] ?? m[3]
          if (specifier === undefined || specifier.startsWith('.') || builtins.has(specifier)) continue
          const pkg = specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0]!
          seen.add(pkg)
          seen.add(`@didbase/${name}/dist/${file}: ${pkg}`)
          if (!declared.has(pkg)) missing.push(`@didbase/${name}/dist/${file} imports ${specifier}`)
        }
      }
    }
    expect(missing).toEqual([])
    expect(seen).toContain('@orbitdb/core')
    expect(seen).toContain('libp2p')
    // A dynamic import counts too: the CLI loads the schema parser only for `create --schema`.
    expect(seen).toContain('@didbase/sdk/dist/cli/args.js: @didbase/schemas')
  })

  /** The app, type-checked and compiled to dist/ once, for whichever test needs it first. */
  let compiled: Promise<unknown> | undefined
  const compile = async (): Promise<unknown> => (compiled ??= run(project, 'npx', ['tsc', '-p', 'tsconfig.json']))

  it('type-checks a Node app and a browser page with skipLibCheck: false', async () => {
    await compile()
    // The page has no @types/node: the published types must not need them.
    await run(project, 'npx', ['tsc', '-p', 'tsconfig.page.json'])
    // Older resolution (no `exports`): the OrbitDB declarations are found through `typesVersions`.
    await run(project, 'npx', ['tsc', '-p', 'tsconfig.node10.json'])
  })

  for (const [version, node] of NODES) {
    it(`runs the app on Node ${version}: a schema-typed put, read back, a refused value, replicated to a second node; the CLI starts`, async () => {
      expect((await run(project, node, ['--version'])).stdout.trim()).toMatch(new RegExp(`^v${version.replace(/^v/, '').split('.')[0]}\\.`))
      await compile()
      const out = JSON.parse((await run(project, node, ['dist/app.js'], 120_000)).stdout.trim().split('\n').at(-1)!) as Record<string, unknown>
      expect(out).toMatchObject({
        title: 'Buy milk',
        notAString: 'boolean',
        refused: 'SchemaValidationError',
        replicated: { title: 'Buy milk', done: false },
        writers: [out.alice]
      })
      expect(out.alice).toMatch(/^did:key:z6Mk/)
      const init = JSON.parse((await run(project, node, [join(project, 'node_modules', '@didbase', 'sdk', 'bin', 'didbase.js'), 'init', '--dir', `data-${version}`, '--json'])).stdout) as { did: string }
      expect(init.did).toMatch(/^did:key:z6Mk/)
    })
  }

  it('on Node 20, the CLI and the SDK say which Node.js they need, before loading the network stack', async () => {
    const cli = await run(project, process.execPath, [...AS_NODE_20, join(project, 'node_modules', '@didbase', 'sdk', 'bin', 'didbase.js'), 'init', '--dir', 'data-old'])
      .then(() => undefined, (err: Error) => err.message)
    expect(cli).toContain('Command failed')
    expect(cli).toContain('didbase: didbase needs Node.js 22 or later; this is Node.js 20.20.2.')
    expect(cli).not.toContain('undici')
    const code = await new Promise<number | null>((resolve) => {
      execFile(process.execPath, [...AS_NODE_20, join(project, 'node_modules', '@didbase', 'sdk', 'bin', 'didbase.js'), '--help'], { cwd: project, env: ENV }, (err) => { resolve(err === null ? 0 : (err as { code?: number }).code ?? null) })
    })
    expect(code).toBe(5)
    const sdk = await run(project, process.execPath, [...AS_NODE_20, '--input-type=module', '-e', "import('@didbase/sdk').then(() => console.log('loaded'), (err) => console.log(JSON.stringify({ name: err.name, message: err.message })))"])
    expect(JSON.parse(sdk.stdout.trim())).toEqual({ name: 'UnsupportedRuntimeError', message: expect.stringContaining('this is Node.js 20.20.2') })
  })

  it('runs npx didbase --help and npx didbase init', async () => {
    const help = await run(project, 'npx', ['didbase', '--help'])
    expect(help.stdout).toContain('didbase <command> [options]')
    const init = JSON.parse((await run(project, 'npx', ['didbase', 'init', '--dir', 'data', '--json'])).stdout) as { did: string }
    expect(init.did).toMatch(/^did:key:z6Mk/)
    expect((await run(project, 'npx', ['didbase', 'id', '--dir', 'data'])).stdout.trim()).toBe(init.did)
  })

  it('builds the page with Vite, no config file, into one bundle with no Node built-ins left', async () => {
    const build = await run(project, 'npx', ['vite', 'build', 'page', '--outDir', '../page-dist', '--emptyOutDir', '--logLevel', 'warn'])
    // A broken `browser` mapping would pull Node code in, which Vite stubs with a warning.
    expect(`${build.stdout}\n${build.stderr}`).not.toContain('externalized for browser compatibility')
    const assets = await readdir(join(project, 'page-dist', 'assets'))
    const scripts = assets.filter((f) => f.endsWith('.js'))
    expect(scripts.length).toBeGreaterThan(0)
    const code = (await Promise.all(scripts.map(async (f) => readFile(join(project, 'page-dist', 'assets', f), 'utf8')))).join('\n')
    expect(code).not.toMatch(/from\s*["']node:/)
    // The Node twin of the platform module (TCP on loopback) is swapped out for the browser one.
    expect(code).not.toContain('/ip4/127.0.0.1/tcp/0')
    expect(code).toContain('/p2p-circuit')
    expect(await readFile(join(project, 'page-dist', 'index.html'), 'utf8')).toContain('<script type="module"')
  })
})
