// Per-request facts gathered along the way (request id, client address, account), for the access
// log. The server creates them; the proxy pipeline and the admin gate fill them in.

export type RequestMeta = { id: string; ip: string; accountId?: number }
