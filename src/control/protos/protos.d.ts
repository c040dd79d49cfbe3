// Lets TypeScript accept `import text from './x.proto' with { type: 'text' }` (Bun embeds the file).
declare module '*.proto' {
  const text: string
  export default text
}
