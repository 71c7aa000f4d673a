import { runAccessControllerSuite } from './src/compliance.js'

runAccessControllerSuite({
  name: 'fixed writers',
  create: ({ owner, writer }) => ({ writers: [owner, writer] })
})

runAccessControllerSuite({
  name: 'anyone may write',
  create: () => ({ writers: ['*'] }),
  open: true
})

runAccessControllerSuite({
  name: 'fixed writers with per-record ownership',
  create: ({ owner, writer }) => ({ writers: [owner, writer], ownership: true })
})

runAccessControllerSuite({
  name: 'ACL, writer granted by an admin',
  create: () => ({ acl: true }),
  enrol: async ({ ownerDb, writer }) => { await ownerDb.grant('writer', writer.did) }
})

runAccessControllerSuite({
  name: 'ACL, writer joined by invite',
  create: () => ({ acl: true }),
  enrol: async ({ ownerDb, writer }) => {
    const token = await ownerDb.invite(writer.did, { expiresIn: 60_000 })
    await writer.accept(token)
  }
})

runAccessControllerSuite({
  name: 'ACL with per-record ownership',
  create: () => ({ acl: true, ownership: true }),
  enrol: async ({ ownerDb, writer }) => { await ownerDb.grant('writer', writer.did) }
})
