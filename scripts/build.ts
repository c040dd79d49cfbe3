// npm run build: compiles src/main.ts into the single executable dist/xgate, baking in the
// version and commit. Assets (Scalar UI, protos, price table) are embedded by their imports.
import { $ } from 'bun'
import pkg from '../package.json'

const commit = (await $`git rev-parse --short HEAD`.nothrow().quiet().text()).trim() || 'unknown'
const result = await Bun.build({
  entrypoints: ['src/main.ts'],
  compile: { outfile: 'dist/xgate' },
  minify: { syntax: true, whitespace: true },
  sourcemap: 'none',
  define: {
    'process.env.XGATE_VERSION': JSON.stringify(pkg.version),
    'process.env.XGATE_COMMIT': JSON.stringify(commit),
  },
})
if (!result.success) {
  for (const log of result.logs) console.error(log)
  process.exit(1)
}
console.log(`built dist/xgate (xgate ${pkg.version}, commit ${commit})`)
