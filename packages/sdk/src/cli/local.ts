/** `init`, `id` and `device list`: they touch only the key and delegation files, so they load no networking code. */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { IDENTITY_FILE, loadOrCreateIdentity } from '@didbase/access/identity'
import type { CommandLine } from './args.js'
import { readDelegation, readDevices } from './delegation-file.js'
import { NotFoundError } from './errors.js'
import { print } from './output.js'

export async function init (cli: CommandLine): Promise<void> {
  const identity = await loadOrCreateIdentity(cli.dir)
  print(cli, `${identity.did}\n(identity in ${join(cli.dir, IDENTITY_FILE)})`, { did: identity.did })
}

export async function id (cli: CommandLine): Promise<void> {
  try {
    await readFile(join(cli.dir, IDENTITY_FILE))
  } catch {
    throw new NotFoundError(`no identity in ${cli.dir}; run: didbase init --dir ${cli.dir}`)
  }
  const identity = await loadOrCreateIdentity(cli.dir)
  const delegation = await readDelegation(cli.dir)
  if (delegation === undefined) {
    print(cli, identity.did, { user: identity.did, did: identity.did })
    return
  }
  print(cli, `${delegation.user}\n(device key ${identity.did}, delegated by ${delegation.user})`, { user: delegation.user, did: identity.did })
}

export async function deviceList (cli: CommandLine): Promise<void> {
  const devices = await readDevices(cli.dir)
  print(cli, devices.map((d) => `${d.did}\tuntil ${new Date(d.expiresAt).toISOString()}\t${d.scope.join(',')}`).join('\n'), devices)
}
