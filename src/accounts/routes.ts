// HTTP of the subaccount API (§3): /x-users and /x-dna. Authenticates, hands plain values to the
// account service and sets the pagination headers; nothing else.
import type { TObject } from '@sinclair/typebox'
import { Elysia } from 'elysia'
import { AppError } from '../shared/errors'
import type { RequestMeta } from '../shared/request-meta'
import type { Authenticator } from './auth'
import type { AccountInput } from './fields'
import { bareFilter, type ListAnswer } from './listing'
import {
  AddAnswer,
  CreateUserBody,
  DeleteAnswer,
  IdentParams,
  ListQuery,
  UpdateAnswer,
  UpdateUserBody,
  UserList,
  UserObject,
} from './model'
import type { AccountService } from './service'

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

/** A path identifier: one object for a single account, an array for a filter or DNA group. */
const identDocs = {
  200: {
    description:
      'One user object for an ID, Name or Email; for a filter L/G/R/T/F{n} or a DNA group a ' +
      'JSON array of user objects with the X-Total-Count, X-Page, X-Per-Page, X-Total-Pages headers',
    content: {
      'application/json': { schema: { oneOf: [UserObject, UserList] } as object },
    },
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

/** What the accounts API touches: the key check, the account service and the request's meta. */
export type AccountRoutesParts = {
  auth: Authenticator
  service: AccountService
  requestMeta: WeakMap<Request, RequestMeta>
}

export const accountRoutes = (p: AccountRoutesParts) => {
  const svc = p.service
  const auth = p.auth

  const paged = (set: { headers: Record<string, string | number> }, a: ListAnswer) => {
    set.headers['x-total-count'] = String(a.total)
    set.headers['x-page'] = String(a.page)
    set.headers['x-per-page'] = String(a.size)
    set.headers['x-total-pages'] = String(Math.ceil(a.total / a.size))
    return a.users
  }
  /** One account as an object; a filter's page as an array with its headers. */
  const answer = (set: { headers: Record<string, string | number> }, a: ListAnswer) =>
    a.one ?? paged(set, a)

  return (
    new Elysia({ name: 'accounts' })
      // At transform time, before body validation: an unknown caller learns nothing about the API.
      .derive(async ({ request }) => {
        const caller = await auth.authenticate(request.headers)
        const meta = p.requestMeta.get(request)
        if (meta) meta.accountId = caller.id
        await svc.gate(caller)
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
        async ({ caller, query, request, set }) =>
          paged(set, await svc.list(caller, 'children', bareFilter(request.url), query)),
        {
          query: ListQuery,
          detail: {
            summary: 'List your direct children (paged)',
            description:
              'A filter may stand bare in the query: /x-users?L2 is /x-users/L2 (also G/R/T/F{n}, a DNA group).',
            tags: TAGS,
            responses: listDocs,
          },
        },
      )
      .get(
        '/x-users/:id',
        async ({ caller, params, query, set }) =>
          answer(set, await svc.list(caller, 'children', params.id, query)),
        {
          params: IdentParams,
          query: ListQuery,
          detail: {
            summary: 'One direct child (or yourself) by ID, Name or Email; or a filtered list',
            description:
              'An ID, Name or Email answers one user object; a filter L/G/R/T/F{n} or a DNA group ' +
              '(.1.42.: that account and those below it) answers an array of your direct children ' +
              'in it. A deeper descendant is a 404 that points to /x-dna/{id}.',
            tags: TAGS,
            responses: identDocs,
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
        async ({ caller, query, request, set }) =>
          paged(set, await svc.list(caller, 'subtree', bareFilter(request.url), query)),
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
        async ({ caller, params, query, set }) =>
          answer(set, await svc.list(caller, 'subtree', params.id, query)),
        {
          params: IdentParams,
          query: ListQuery,
          detail: {
            summary: 'One descendant (or yourself) by ID, Name or Email; or a filtered list',
            description:
              'An ID, Name or Email answers one user object; a filter L/G/R/T/F{n} or a DNA group ' +
              '(.1.42.: that account and those below it) answers an array of your descendants in it.',
            tags: TAGS,
            responses: identDocs,
          },
        },
      )
  )
}
