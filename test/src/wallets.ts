/**
 * Wallets as a page meets them: an EIP-1193 provider backed by a viem local account (a
 * browser wallet cannot run here: this is the signer such a wallet uses, and the API a page
 * talks to), and sessions made by the real `did-session` package over it.
 */
import { EthereumNodeAuth, getAccountId } from '@didtools/pkh-ethereum'
import { type DelegatedIdentity, type Eip1193Provider, fromDidSession } from '@didbase/sdk'
import { DIDSession } from 'did-session'
import { generatePrivateKey, type PrivateKeyAccount, privateKeyToAccount } from 'viem/accounts'

export type TestWallet = Eip1193Provider & { did: string, account: PrivateKeyAccount }

/** An EIP-1193 provider backed by a viem local account: what a page's `window.ethereum` offers. */
export function walletProvider (account = privateKeyToAccount(generatePrivateKey())): TestWallet {
  return {
    did: `did:pkh:eip155:1:${account.address.toLowerCase()}`,
    account,
    async request ({ method, params = [] }) {
      switch (method) {
        case 'eth_accounts':
        case 'eth_requestAccounts':
          return [account.address]
        case 'eth_chainId':
          return '0x1'
        case 'personal_sign':
          return account.signMessage({ message: { raw: params[0] as `0x${string}` } })
        default:
          throw Object.assign(new Error(`unsupported ${method}`), { code: 4200 })
      }
    }
  }
}

/** A session for `wallet` made by did-session (a client nobody here wrote), for `address`. */
export async function didSessionFor (wallet: TestWallet, address: string): Promise<DelegatedIdentity> {
  const accountId = await getAccountId(wallet as never, wallet.account.address)
  const authMethod = await EthereumNodeAuth.getAuthMethod(wallet as never, accountId, 'app.example.com')
  const session = await DIDSession.authorize(authMethod, { resources: [`didbase:${address}`], expiresInSecs: 3600 })
  return fromDidSession(session)
}
