// The console's shell: sign-in until a key is accepted, then a navigation bar and the screen the
// address's #fragment names. Operator screens are offered to root only.
import { signal } from '@preact/signals'
import { keyRefused } from './api'
import { useEffect } from 'preact/hooks'
import { markup } from './markup'
import { isRoot, me, refreshMe, signOut, signedIn } from './session'
import { ErrorLine } from './parts/ui'
import { SignIn } from './pages/signin'
import { Home } from './pages/home'
import { Usage } from './pages/usage'
import { Requests } from './pages/requests'
import { Limits } from './pages/limits'
import { Subaccounts } from './pages/subaccounts'
import { Keys } from './pages/keys'
import { News } from './pages/news'
import { OpLog } from './pages/oplog'
import { Upstream } from './pages/upstream'
import { Config } from './pages/config'

type Screen = { id: string; title: string; view: () => unknown; root?: boolean }

const SCREENS: Screen[] = [
  { id: 'home', title: 'Home', view: Home },
  { id: 'usage', title: 'Usage', view: Usage },
  { id: 'requests', title: 'Requests', view: Requests },
  { id: 'limits', title: 'Limits', view: Limits },
  { id: 'subaccounts', title: 'Subaccounts', view: Subaccounts },
  { id: 'keys', title: 'Keys', view: Keys },
  { id: 'news', title: 'News', view: News },
  { id: 'log', title: 'Log', view: OpLog },
  { id: 'upstream', title: 'Upstream keys', view: Upstream, root: true },
  { id: 'config', title: 'Config', view: Config, root: true },
]

const routeOf = () => location.hash.replace(/^#\/?/, '') || 'home'
const route = signal(routeOf())
addEventListener('hashchange', () => (route.value = routeOf()))

const loadError = signal<unknown>(null)

/** The skip link moves the focus without touching the #fragment (it names the screen). */
function skipToMain(e: Event) {
  e.preventDefault()
  document.getElementById('main')?.focus()
}

export function App() {
  useEffect(() => {
    if (signedIn.value && !me.value) refreshMe().catch((e) => (loadError.value = e))
  }, [signedIn.value])
  if (!signedIn.value) return markup`<${SignIn} />`
  if (!me.value) {
    return markup`<main class="page"><p>Loading your account…</p><${ErrorLine} error=${loadError.value} />
      <button type="button" onClick=${signOut}>Sign out</button></main>`
  }
  const screens = SCREENS.filter((s) => !s.root || isRoot.value)
  const current = screens.find((s) => s.id === route.value) ?? screens[0]!
  document.title = `${current.title} · xgate console`
  const View = current.view as () => unknown
  return markup`<div class="shell">
    <a class="skip" href="#main" onClick=${skipToMain}>Skip to the screen</a>
    <header class="top">
      <a class="brand" href="#/home">xgate</a>
      <nav aria-label="Screens">
        <ul>
          ${screens.map(
            (s) => markup`<li>
              <a href=${`#/${s.id}`} aria-current=${s === current ? 'page' : undefined}>${s.title}</a>
            </li>`,
          )}
        </ul>
      </nav>
      <div class="who">
        <span title=${me.value.DNA}>${me.value.Name}</span>
        <button type="button" onClick=${signOut}>Sign out</button>
      </div>
    </header>
    ${
      keyRefused.value
        ? markup`<p class="error banner" role="alert">
          xgate no longer accepts this key (401). Sign out and sign in with a valid key.
        </p>`
        : null
    }
    <main class="page" id="main" tabindex="-1" data-screen=${current.id}>
      <h1>${current.title}</h1>
      <${View} key=${current.id} />
    </main>
  </div>`
}
