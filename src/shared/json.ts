// Limits on a parsed JSON body, checked before schema validation: deep nesting and keys such as
// `toString` made the validator's error report fail (500) or spin; no admin body needs either.

export const MAX_JSON_DEPTH = 32

/** Object keys no xgate body uses and JavaScript gives a meaning: refused, never looked up. */
const RESERVED_KEYS = new Set(['__proto__', 'constructor', 'prototype', 'toString', 'valueOf'])

/** Why a parsed body is refused (nesting deeper than `maxDepth`, a reserved key), or null. */
export function bodyShapeProblem(value: unknown, maxDepth = MAX_JSON_DEPTH): string | null {
  const stack: Array<[unknown, number]> = [[value, 1]]
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!
    if (v === null || typeof v !== 'object') continue
    if (depth > maxDepth) return `nested deeper than ${maxDepth} levels`
    if (!Array.isArray(v)) {
      const key = Object.keys(v).find((k) => RESERVED_KEYS.has(k))
      if (key !== undefined) return `key '${key}' is not allowed`
    }
    const children = Array.isArray(v) ? v : Object.values(v)
    for (const c of children) if (c !== null && typeof c === 'object') stack.push([c, depth + 1])
  }
  return null
}
