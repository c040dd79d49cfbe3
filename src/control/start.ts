// The control API of one running gateway: its backend (built once per Deps) and the gRPC listener
// started from API_LISTEN / API_SERVICES / API_TOKEN.
import type { Deps } from '../deps'
import type { ControlBackend } from './backend'
import { createControlBackend, type KeyStateView } from './gateway'
import type { ControlServer } from './grpc'
import { createHandlerBackend } from './handler-backend'

const backends = new WeakMap<Deps, ControlBackend>()

export function controlBackendOf(deps: Deps): ControlBackend {
  let b = backends.get(deps)
  if (!b) backends.set(deps, (b = createControlBackend(deps, createHandlerBackend(deps))))
  return b
}

/** Live state of every upstream key, for /metrics. */
export function keyStatesOf(deps: Deps): () => KeyStateView[] {
  const pool = deps.keys.pool
  // From the pool in memory: the key rows and their live state, no store read per scrape.
  return () =>
    pool
      .all()
      .sort((a, b) => a.id - b.id)
      .map((k) => ({ name: k.name, type: k.type, level: k.level, state: pool.stateOf(k).state }))
}

/** Starts the gRPC listener, or returns null when API_SERVICES is empty. */
export async function startControl(deps: Deps): Promise<ControlServer | null> {
  const { config } = deps
  if (config.API_SERVICES.length === 0) return null
  // grpc-js and the protos load only when a service is configured (about 19 MB of memory).
  const { startControlServer } = await import('./grpc')
  return startControlServer({
    listen: config.API_LISTEN,
    services: config.API_SERVICES,
    token: config.API_TOKEN,
    backend: controlBackendOf(deps),
    log: deps.log,
    node: deps.cluster?.nodeId,
  })
}
