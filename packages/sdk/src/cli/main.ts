/**
 * The `didbase` command. Each command starts a node on the data directory (`--dir`, default
 * `./.didbase`), does one thing, and stops. `--json` prints machine-readable output.
 *
 * Exit codes: 0 done; 1 bad usage (a query that cannot run, too); 2 refused (access, schema,
 * invalid value, invite or delegation); 3 not found (no identity, unknown database or key);
 * 4 anything else; 5 this Node.js is too old (bin/didbase.js checks before this module loads).
 *
 * `--help`, `init`, `id` and every usage error load no networking code: the command line is
 * checked in full first (args.ts), and network.ts is imported only for a command that
 * needs a node.
 */
import * as nodeModule from 'node:module'
import { type CommandLine, parseCommand, parseCommandLine, USAGE } from './args.js'
import { FIND_USAGE } from './find-args.js'
import { deviceList, id, init } from './local.js'

/** Node 22 keeps compiled code between runs (in the OS temporary directory): a command that starts a node loads the libp2p stack a few hundred ms faster. */
const { enableCompileCache } = nodeModule as { enableCompileCache?: () => unknown }

const USAGE_ERRORS = new Set(['UsageError', 'InvalidAddressError', 'ConfigError', 'InvalidQueryError'])
const REFUSED = new Set(['AccessDeniedError', 'NameTakenError', 'InvalidDelegationError', 'SchemaValidationError', 'InvalidValueError', 'InvalidInviteError', 'InviteExpiredError', 'InvalidDidError', 'WrongDatabaseTypeError', 'ClosedError', 'PinRefusedError'])
const NOT_FOUND = new Set(['NotFoundError', 'UnknownDatabaseError', 'UnsupportedDatabaseError'])

function exitCode (name: string): number {
  if (USAGE_ERRORS.has(name)) return 1
  if (NOT_FOUND.has(name)) return 3
  if (REFUSED.has(name)) return 2
  return 4
}

async function main (cli: CommandLine): Promise<void> {
  const command = await parseCommand(cli)
  switch (command.name) {
    case 'help':
      console.log(command.topic === 'find' ? FIND_USAGE : USAGE)
      return
    case 'init':
      return init(cli)
    case 'id':
      return id(cli)
    case 'device-list':
      return deviceList(cli)
    default: {
      enableCompileCache?.()
      const { runNetworkCommand } = await import('./network.js')
      return runNetworkCommand(command, cli)
    }
  }
}

let cli: CommandLine | undefined
try {
  cli = parseCommandLine(process.argv.slice(2))
  await main(cli)
} catch (err) {
  const e = err as Error & { reason?: unknown, usage?: string }
  const code = exitCode(e.name)
  if (cli?.flags.json === true) console.error(JSON.stringify({ error: e.name, message: e.message, ...(e.reason !== undefined ? { reason: e.reason } : {}), exitCode: code }))
  else console.error(`didbase: ${e.message}${e.name === 'UsageError' ? `\n\n${e.usage ?? USAGE}` : ''}`)
  process.exitCode = code
}
