import { createDidbase } from '@didbase/sdk'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
const [user, policy, live] = process.argv.slice(2)
const alice = await createDidbase({ directory: await mkdtemp(join(tmpdir(), 'creator-')), ...(live === '1' ? { resync: { intervalMs: 0, retry: false } } : {}) })
const db = await alice.keyValue('first-write', policy === 'acl' ? { acl: true } : { writers: [alice.did, user] })
if (policy === 'acl') await db.grant('writer', user)
db.addEventListener('update', (e) => { console.log(`update ${e.detail.hash} ${Date.now()}`) })
console.log(`ready ${db.address} ${alice.multiaddrs[0]}`)
process.stdin.on('data', async () => { await alice.close(); process.exit(0) })
