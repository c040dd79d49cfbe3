// JSON Schema as TypeBox writes it, rewritten in OpenAPI 3.0 form: one case per rule.
import { describe, expect, test } from 'bun:test'
import { toSchema30 } from '../../src/docs/schema'

describe('toSchema30', () => {
  test('const becomes a one-value enum; literal unions one enum', () => {
    expect(toSchema30({ const: 'ok', type: 'string' })).toEqual({ type: 'string', enum: ['ok'] })
    expect(toSchema30({ const: 3 })).toEqual({ type: 'integer', enum: [3] })
    expect(
      toSchema30({
        anyOf: [
          { const: 'a', type: 'string' },
          { const: 'b', type: 'string' },
        ],
      }),
    ).toEqual({ type: 'string', enum: ['a', 'b'] })
  })

  test('a numeric string beside its number is the number (integers stay integers)', () => {
    const numeric = {
      anyOf: [{ format: 'integer', default: 0, type: 'string' }, { type: 'integer' }],
    }
    expect(toSchema30(numeric)).toEqual({ type: 'integer' })
    const page = {
      description: 'from 1',
      anyOf: [
        { format: 'numeric', type: 'string' },
        { type: 'number', minimum: 1 },
      ],
    }
    expect(toSchema30(page)).toEqual({ type: 'number', minimum: 1, description: 'from 1' })
    // A true choice of text or number is kept.
    const either = { anyOf: [{ type: 'string', maxLength: 9 }, { type: 'number' }] }
    expect(toSchema30(either)).toEqual(either)
  })

  test('null branches and type arrays become nullable', () => {
    expect(
      toSchema30({ anyOf: [{ type: 'string', maxLength: 5 }, { type: 'null' }], description: 'd' }),
    ).toEqual({ type: 'string', maxLength: 5, nullable: true, description: 'd' })
    expect(toSchema30({ type: ['integer', 'null'] })).toEqual({ type: 'integer', nullable: true })
    expect(
      toSchema30({
        anyOf: [
          { anyOf: [{ format: 'integer', type: 'string' }, { type: 'integer' }] },
          { type: 'null' },
        ],
      }),
    ).toEqual({ type: 'integer', nullable: true })
    expect(
      toSchema30({ anyOf: [{ type: 'object' }, { type: 'string' }, { type: 'null' }] }),
    ).toEqual({
      anyOf: [
        { type: 'object', nullable: true },
        { type: 'string', nullable: true },
      ],
    })
    expect(toSchema30({ type: ['string', 'integer'] })).toEqual({
      anyOf: [{ type: 'string' }, { type: 'integer' }],
    })
    expect(toSchema30({ anyOf: [{ const: 'x', type: 'string' }, { type: 'null' }] })).toEqual({
      type: 'string',
      enum: ['x', null],
      nullable: true,
    })
  })

  test('exclusive bounds become the 3.0 booleans', () => {
    expect(toSchema30({ type: 'number', exclusiveMinimum: 0, maximum: 10 })).toEqual({
      type: 'number',
      minimum: 0,
      exclusiveMinimum: true,
      maximum: 10,
    })
    expect(toSchema30({ type: 'number', exclusiveMaximum: 5 })).toEqual({
      type: 'number',
      maximum: 5,
      exclusiveMaximum: true,
    })
  })

  test('patternProperties become additionalProperties; examples an example', () => {
    expect(toSchema30({ type: 'object', patternProperties: { '^(.*)$': {} } })).toEqual({
      type: 'object',
      additionalProperties: true,
    })
    expect(toSchema30({ type: 'object', patternProperties: { '^(.*)$': { const: 'a' } } })).toEqual(
      { type: 'object', additionalProperties: { type: 'string', enum: ['a'] } },
    )
    expect(toSchema30({ type: 'string', examples: ['a', 'b'] })).toEqual({
      type: 'string',
      example: 'a',
    })
  })

  test('nested schemas are converted; keywords outside 3.0 dropped; the input is untouched', () => {
    const input = {
      type: 'object',
      $id: 'X',
      required: [],
      properties: { a: { type: 'array', items: { const: true } }, d: { type: 'Date' } },
    }
    const copy = structuredClone(input)
    expect(toSchema30(input)).toEqual({
      type: 'object',
      properties: {
        a: { type: 'array', items: { type: 'boolean', enum: [true] } },
        d: { type: 'string', format: 'date-time' },
      },
    })
    expect(input).toEqual(copy)
  })
})
