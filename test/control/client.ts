// A grpc-js test client built from the same embedded protos as the server, able to call any
// method under either package name, with optional metadata.

import * as grpc from '@grpc/grpc-js'
import { serviceDefinition } from '../../src/control/grpc'
import type { Plain, ServiceName } from '../../src/control/protos'

export type Caller = (method: string, req?: Plain, md?: Record<string, string>) => Promise<Plain>

export function makeCaller(address: string, service: ServiceName, qualified: string) {
  const Ctor = grpc.makeClientConstructor(serviceDefinition(service, qualified), qualified)
  const target = address.startsWith('/') ? `unix:${address}` : address
  const client = new Ctor(target, grpc.credentials.createInsecure())
  const call: Caller = (method, req = {}, md = {}) =>
    new Promise((resolve, reject) => {
      const meta = new grpc.Metadata()
      for (const [k, v] of Object.entries(md)) meta.set(k, v)
      const fn = (client as unknown as Record<string, Function>)[method]
      if (!fn) throw new Error(`no client method ${method}`)
      fn.call(client, req, meta, (err: grpc.ServiceError | null, res: Plain) =>
        err ? reject(err) : resolve(res),
      )
    })
  return { call, close: () => client.close() }
}

/** The gRPC status code of a rejected call. */
export async function codeOf(p: Promise<unknown>): Promise<number> {
  try {
    await p
  } catch (e) {
    return (e as grpc.ServiceError).code
  }
  throw new Error('call succeeded, an error was expected')
}
