// HandlerService: inbounds are xgate's fixed API surfaces, users on them are accounts (children
// of root), outbounds are upstream provider keys. Payload mapping: see payloads.ts.

import type { ControlBackend } from '../backend'
import { ControlError, GrpcStatus } from '../errors'
import type { Plain } from '../protos'
import {
  outboundMessage,
  parseInboundOperation,
  parseOutbound,
  userMessage,
  type TypedMessage,
} from './payloads'
import type { ServiceImpl } from './types'

function unimplemented(what: string): () => never {
  return () => {
    throw new ControlError(GrpcStatus.UNIMPLEMENTED, what)
  }
}

/** The tag as a known inbound, else NOT_FOUND, checked before the backend is asked anything. */
function inbound(b: ControlBackend, tag: unknown): string {
  const t = String(tag ?? '')
  if (!b.handler.listInbounds().includes(t)) {
    throw new ControlError(GrpcStatus.NOT_FOUND, `inbound "${t}" not found`)
  }
  return t
}

export const handlerService: ServiceImpl = {
  AddInbound: unimplemented(
    'xgate has fixed inbounds (openai, anthropic): AddInbound is not supported',
  ),
  RemoveInbound: unimplemented(
    'xgate has fixed inbounds (openai, anthropic): RemoveInbound is not supported',
  ),
  AlterOutbound: unimplemented(
    'AlterOutbound is not supported: RemoveOutbound then AddOutbound, or PUT /x-keys/{id}',
  ),

  async AlterInbound(b, req) {
    const tag = inbound(b, req.tag)
    const op = parseInboundOperation(req.operation as TypedMessage | null)
    if (op.kind === 'add') await b.handler.addUser(tag, op.user)
    else await b.handler.removeUser(tag, op.email)
    return {}
  },

  ListInbounds(b) {
    return { inbounds: b.handler.listInbounds().map((tag) => ({ tag })) }
  },

  async GetInboundUsers(b, req) {
    const tag = inbound(b, req.tag)
    const email = String(req.email ?? '')
    const users = await b.handler.getInboundUsers(tag, email || undefined)
    return { users: users.map(userMessage) }
  },

  async GetInboundUsersCount(b, req) {
    return { count: await b.handler.countInboundUsers(inbound(b, req.tag)) }
  },

  async AddOutbound(b, req) {
    await b.handler.addOutbound(parseOutbound(req.outbound as Plain | null))
    return {}
  },

  async RemoveOutbound(b, req) {
    const tag = String(req.tag ?? '')
    if (!tag) throw new ControlError(GrpcStatus.INVALID_ARGUMENT, 'tag (the key name) is required')
    await b.handler.removeOutbound(tag)
    return {}
  },

  async ListOutbounds(b) {
    return { outbounds: (await b.handler.listOutbounds()).map(outboundMessage) }
  },
}
