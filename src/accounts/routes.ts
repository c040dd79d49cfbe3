// HTTP of the subaccount API (§3): /x-users and /x-dna. Authenticates, hands plain values to the
// account service and sets the pagination headers; nothing else.
import type { TObject } from '@sinclair/typebox'
import { Elysia } from 'elysia'
import type { Deps } from '../deps'
import { AppError } from '../shared/errors'
import type { AccountInput } from './fields'
import type { ListAnswer } from './listing'
import {
  AddAnswer,
  CreateUserBody,
  DeleteAnswer,
  IdentParams,
  ListQuery,
  UpdateAnswer,
  UpdateUserBody,
  UserList,
} from './model'

const TAGS = ['Accounts']

/**
 * Lists are documented, not validated on the way out: checking 1,000 user objects per page
 * cost more than building them. The write answers keep their runtime-checked models.
 */
const listDocs = {
  200: {
    description:
      'A JSON array of user objects; X-Total-Count, X-Page, X-Per-Page, X-Total-Pages headers',
    content: { 'application/json': { schema: UserList as object } },
  },
}

/** Before validation: a field this API does not know is a 400, never silently dropped. */
const knownFieldsOnly =
  (schema: TObject) =>
  ({ body }: { body: unknown }) => {
    if (!body || typeof body !== 'object' || Array.isArray(body)) return
    const unknown = Object.keys(body).find((k) => !(k in schema.properties))
    if (unknown) throw new AppError('bad_request', `${unknown}: unknown field`, { param: unknown })
  }

export const accountRoutes = (deps: Deps) => {
  const svc = deps.accounts.service
  const auth = deps.accounts.auth

  const paged = (set: { headers: Record<string, string | number> }, a: ListAnswer) => {
    set.headers['x-total-count'] = String(a.total)
    set.headers['x-page'] = String(a.page)
    set.headers['x-per-page'] = String(a.size)
    set.headers['x-total-pages'] = String(Math.ceil(a.total / a.size))
    return a.users
  }

  return (
    new Elysia({ name: 'accounts' })
      // At transform time, before body validation: an unknown caller learns nothing about the API.
      .derive(({ request }) => {
        const caller = auth.authenticate(request.headers)
        const meta = deps.requestMeta.get(request)
        if (meta) meta.accountId = caller.id
        svc.gate(caller)
        return { caller, ref: meta?.id }
      })
      .post(
        '/x-users',
        ({ caller, body, ref }) => svc.create(caller, body as AccountInput, { ref }),
        {
          body: CreateUserBody,
          transform: knownFieldsOnly(CreateUserBody),
          response: AddAnswer,
          detail: {
            summary: 'Create a direct child account, funded by you',
            description:
              'Required Name, Email, CreditGranted (≥ USER_MIN_BALANCE). Unset fields inherit from you. ' +
              'The new key is shown once in User.SecretKey.',
            tags: TAGS,
          },
        },
      )
      .get(
        '/x-users',
        ({ caller, query, set }) => paged(set, svc.list(caller, 'children', undefined, query)),
        {
          query: ListQuery,
          detail: { summary: 'List your direct children (paged)', tags: TAGS, responses: listDocs },
        },
      )
      .get(
        '/x-users/:id',
        ({ caller, params, query, set }) =>
          paged(set, svc.list(caller, 'children', params.id, query)),
        {
          params: IdentParams,
          query: ListQuery,
          detail: {
            summary:
              'One direct child (or yourself) by ID, Name, Email or DNA; or a filter L/G/R/T/F{n}',
            tags: TAGS,
            responses: listDocs,
          },
        },
      )
      .put(
        '/x-users/:id',
        ({ caller, params, body, ref }) => svc.update(caller, params.id, body as AccountInput, ref),
        {
          params: IdentParams,
          body: UpdateUserBody,
          transform: knownFieldsOnly(UpdateUserBody),
          response: UpdateAnswer,
          detail: {
            summary: 'Update a descendant: fields, Rates, CreditGranted ± (fund / deduct), Days',
            description: 'On yourself only Alias and BillingEmail.',
            tags: TAGS,
          },
        },
      )
      .post(
        '/x-users/:id',
        ({ caller, params, body, ref }) => svc.update(caller, params.id, body as AccountInput, ref),
        {
          params: IdentParams,
          body: UpdateUserBody,
          transform: knownFieldsOnly(UpdateUserBody),
          response: UpdateAnswer,
          detail: { summary: 'Update a descendant (same as PUT)', tags: TAGS },
        },
      )
      .delete('/x-users/:id', ({ caller, params, ref }) => svc.remove(caller, params.id, ref), {
        params: IdentParams,
        response: DeleteAnswer,
        detail: {
          summary:
            'Delete a descendant and its subtree; balances refund up the tree minus $0.20 each',
          tags: TAGS,
        },
      })
      .get(
        '/x-dna',
        ({ caller, query, set }) => paged(set, svc.list(caller, 'subtree', undefined, query)),
        {
          query: ListQuery,
          detail: {
            summary: 'List all your descendants in DNA order (paged)',
            tags: TAGS,
            responses: listDocs,
          },
        },
      )
      .get(
        '/x-dna/:id',
        ({ caller, params, query, set }) =>
          paged(set, svc.list(caller, 'subtree', params.id, query)),
        {
          params: IdentParams,
          query: ListQuery,
          detail: {
            summary: 'One descendant (or yourself) by ID, Name, Email or DNA; or a filter',
            tags: TAGS,
            responses: listDocs,
          },
        },
      )
  )
}
