// The shape every control method has: one implementation, called by the gRPC listener and by
// the JSON mirror alike, from a decoded request to a plain response message.

import type { ControlBackend } from '../backend'
import type { Plain } from '../protos'

export type MethodImpl = (backend: ControlBackend, req: Plain) => Plain | Promise<Plain>

export type ServiceImpl = Record<string, MethodImpl>
