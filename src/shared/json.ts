// Limits on the shape of a parsed JSON body, checked before schema validation: deep nesting
// costs the validator's error report stack and time (a 10 KB body once took a 500), and no
// admin body needs more than a few levels.

export const MAX_JSON_DEPTH = 32

/** True when `value` nests arrays or objects deeper than `max` levels. Iterative: no recursion. */
export function nestedDeeperThan(value: unknown, max: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 1]]
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!
    if (v === null || typeof v !== 'object') continue
    if (depth > max) return true
    const children = Array.isArray(v) ? v : Object.values(v)
    for (const c of children) if (c !== null && typeof c === 'object') stack.push([c, depth + 1])
  }
  return false
}
