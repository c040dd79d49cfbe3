// Loaded before every test file (bunfig.toml): what a whole run shares is stopped at its end.
// bun test does not emit the process 'exit' event, so the PostgreSQL server a run started on
// first use (engine.ts) is stopped here.
import { afterAll } from 'bun:test'
import { stopTestServer } from './engine'

afterAll(async () => {
  await stopTestServer()
})
