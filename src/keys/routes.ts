// HTTP for upstream keys (root only): POST/PUT/DELETE/GET /x-keys and GET /x-gkey.
import { Elysia, t } from 'elysia'
import { adminAuth, requireRoot, type Authenticator } from '../accounts/auth'
import type { Tree } from '../accounts/tree'
import { gateCaller } from '../reports/ident'
import { generateKey } from '../shared/ids'
import type { RequestMeta } from '../shared/request-meta'
import {
  GeneratedKey,
  KeyAction,
  KeyCreate,
  KeyDeleted,
  KeyIdent,
  KeyList,
  KeyQuery,
  KeyUpdate,
  KeyView,
} from './model'
import type { KeysService } from './service'

const tags = ['Upstream keys']

/** `L{n}` in the path: the keys of pool level n (a key's own Name wins when it is spelled so). */
const LEVEL_FILTER = /^L(\d{1,2})$/

/** What the upstream-key routes touch: the key check, the caller's tree, the keys service. */
export type KeysRoutesParts = {
  auth: Authenticator
  tree: Tree
  requestMeta: WeakMap<Request, RequestMeta>
  keys: KeysService
}

export const keysRoutes = (p: KeysRoutesParts) => {
  const keys = p.keys
  return new Elysia({ name: 'keys' })
    .use(adminAuth(p.auth))
    .onBeforeHandle(async ({ caller, request }) => {
      // A caller under a disabled ancestor is refused as disabled (401) before the root check.
      await gateCaller(p, request, caller)
      requireRoot(caller)
    })
    .get('/x-gkey', () => ({ key: generateKey() }), {
      response: GeneratedKey,
      detail: { summary: 'A fresh account key (not stored)', tags },
    })
    .post(
      '/x-keys',
      async ({ caller, body }) => ({ Action: 'add' as const, Key: await keys.add(caller, body) }),
      {
        body: KeyCreate,
        response: KeyAction('add'),
        detail: { summary: 'Add an upstream key to the pool', tags },
      },
    )
    .put(
      '/x-keys/:id',
      async ({ caller, body, params }) => ({
        Action: 'update' as const,
        Key: await keys.update(caller, params.id, body),
      }),
      {
        params: KeyIdent,
        body: KeyUpdate,
        response: KeyAction('update'),
        detail: { summary: 'Update an upstream key (takes effect on the next request)', tags },
      },
    )
    .delete(
      '/x-keys/:id',
      async ({ caller, params }) => ({
        Action: 'delete' as const,
        Key: await keys.remove(caller, params.id),
      }),
      {
        params: KeyIdent,
        response: KeyDeleted,
        detail: { summary: 'Remove an upstream key', tags },
      },
    )
    .get('/x-keys', ({ query }) => keys.list(query), {
      query: KeyQuery,
      response: KeyList,
      detail: {
        summary: 'List upstream keys with live state (secrets masked)',
        description:
          'GET /x-keys/ (an empty id) is this same list. Filters: level, provider, status.',
        tags,
      },
    })
    .get(
      '/x-keys/:id',
      async ({ params, query }) => {
        const level = LEVEL_FILTER.exec(params.id)
        if (level && !(await keys.list({})).some((k) => k.Name === params.id))
          return keys.list({ ...query, level: Number(level[1]) })
        return keys.get(params.id)
      },
      {
        params: KeyIdent,
        query: KeyQuery,
        response: t.Union([KeyView, KeyList]),
        detail: {
          summary: 'One upstream key by ID or Name (one object); L{n}: the keys of level n (array)',
          description:
            'An ID or Name answers one key object with its live state (secret masked); a level ' +
            'filter L{n} answers an array, like GET /x-keys?level=n. An empty id (GET /x-keys/) ' +
            'is the list.',
          tags,
        },
      },
    )
}
