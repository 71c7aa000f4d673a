/**
 * The page: renders the app's snapshot and turns clicks into app calls. The URL's hash
 * says which list is open (`#list=<address>`) or carries an invite (`#invite=<token>`).
 */
import { type Snapshot, TodoApp } from './app.ts'

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const el = document.getElementById(id)
  if (el === null) throw new Error(`#${id} is missing from the page`)
  return el as T
}

function short (did: string): string {
  return did.length > 24 ? `${did.slice(0, 14)}…${did.slice(-6)}` : did
}

let app: TodoApp | undefined

function render (s: Snapshot): void {
  $('did').textContent = s.did
  $('peer').textContent = s.peer
  $('peer').dataset.state = s.peer
  $('sync').textContent = s.sync
  $('browsers').textContent = String(s.browsers)
  $<HTMLButtonElement>('create').disabled = s.peer !== 'online'
  $('start').hidden = s.address !== undefined
  $('list-view').hidden = s.address === undefined
  $('address').textContent = s.address ?? ''
  $('role').textContent = s.isAdmin ? 'you are an admin' : s.canWrite ? 'you may write' : s.member ? 'read only' : 'private: ask an admin for an invite to read it'
  $('invite-form').hidden = !s.isAdmin
  $('items').replaceChildren(...s.items.map((item) => {
    const li = document.createElement('li')
    li.className = item.done ? 'done' : ''
    li.dataset.writer = item.writer
    const box = document.createElement('input')
    box.type = 'checkbox'
    box.checked = item.done
    box.addEventListener('change', () => { void app?.toggle(item) })
    const title = document.createElement('span')
    title.className = 'title'
    title.textContent = item.title
    const writer = document.createElement('span')
    writer.className = 'writer'
    writer.textContent = short(item.writer)
    writer.title = item.writer
    li.append(box, title, writer)
    return li
  }))
  $('refused').replaceChildren(...s.refused.map((r) => Object.assign(document.createElement('li'), { textContent: `${r.name}: ${r.message}` })))
  $('rejected').replaceChildren(...s.rejected.map((r) => Object.assign(document.createElement('li'), { textContent: `${r.reason} from ${short(r.did)}` })))
}

function showError (err: unknown): void {
  const e = err as Error
  const li = Object.assign(document.createElement('li'), { textContent: `${e.name}: ${e.message}` })
  $('refused').prepend(li)
}

/** Open what the hash names: a list, or the list of an invite (redeemed first). */
async function route (app: TodoApp): Promise<void> {
  const hash = new URLSearchParams(location.hash.slice(1))
  const invite = hash.get('invite')
  const list = hash.get('list')
  if (invite !== null) {
    // Once redeemed, the page links to the list itself: a reload must not redeem again.
    location.hash = `list=${await app.accept(invite)}`
  } else if (list !== null) {
    await app.open(list)
  }
}

async function main (): Promise<void> {
  const peer = await (await fetch('/peer.json')).json() as { multiaddr: string }
  app = await TodoApp.start(peer, render)
  render(app.snapshot)
  await route(app)
  // A link pasted into this tab changes only the hash.
  window.addEventListener('hashchange', () => { if (app !== undefined) route(app).catch(showError) })

  $('create').addEventListener('click', () => {
    app?.create().then((address) => { location.hash = `list=${address}` }, showError)
  })
  $('add-form').addEventListener('submit', (e) => {
    e.preventDefault()
    const input = $<HTMLInputElement>('new-title')
    void app?.add(input.value).then((written) => { if (written) input.value = '' })
  })
  $('invite-form').addEventListener('submit', (e) => {
    e.preventDefault()
    app?.invite($<HTMLInputElement>('invite-did').value).then((token) => {
      const link = $<HTMLInputElement>('invite-link')
      link.value = `${location.origin}${location.pathname}#invite=${token}`
      link.hidden = false
    }, showError)
  })
  document.body.dataset.ready = 'true'
}

main().catch((err) => {
  showError(err)
  console.error(err)
})
