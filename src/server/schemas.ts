/** JSON schemas of the HTTP API's request bodies and replies (validated by fastify/ajv). */

const num = { type: 'number' } as const;
const vector = { type: 'array', items: num, minItems: 1, maxItems: 65536 } as const;
const id = { anyOf: [{ type: 'string', minLength: 1, maxLength: 256 }, { type: 'integer' }] } as const;
const filterValue = { anyOf: [{ type: 'string' }, { type: 'number' }, { type: 'boolean' }, { type: 'null' }] } as const;
const filter = {
  type: 'object',
  additionalProperties: { anyOf: [filterValue, { type: 'array', items: filterValue, maxItems: 1000 }] },
  maxProperties: 32,
} as const;

/** A raw input of the run's kind: numbers (images, vectors), a string (text) or an object (a tabular row). */
const rawInput = { anyOf: [vector, { type: 'string', minLength: 1, maxLength: 100000 }, { type: 'object', maxProperties: 4096 }] } as const;

/** Exactly one way to give the query: an embedding, a raw model input, or an indexed item's id. */
const queryProps = { vector, input: rawInput, id } as const;
const oneQuery = { oneOf: [{ required: ['vector'] }, { required: ['input'] }, { required: ['id'] }] } as const;

const hit = {
  type: 'object',
  properties: { id, score: num, distance: num, metadata: { type: 'object', additionalProperties: true } },
  required: ['id', 'score', 'distance'],
} as const;

export const errorReply = {
  type: 'object',
  properties: { error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } }, required: ['code', 'message'] } },
  required: ['error'],
} as const;

export const embedSchema = {
  body: {
    type: 'object',
    properties: { inputs: { type: 'array', items: rawInput, minItems: 1, maxItems: 256 } },
    required: ['inputs'],
    additionalProperties: false,
  },
  response: {
    200: { type: 'object', properties: { dim: { type: 'integer' }, embeddings: { type: 'array', items: { type: 'array', items: num } } } },
    '4xx': errorReply,
  },
} as const;

/** Up to 256 queries of one kind, searched in one pass. */
const batchOf = <T>(items: T) => ({ type: 'array', items, minItems: 1, maxItems: 256 }) as const;

/** A single query's fields and a batch's (`vectors`, `inputs` or `ids`): exactly one of the six. */
const queryOrBatchProps = { ...queryProps, vectors: batchOf(vector), inputs: batchOf(rawInput), ids: batchOf(id) } as const;
const oneQueryOrBatch = [...oneQuery.oneOf, { required: ['vectors'] }, { required: ['inputs'] }, { required: ['ids'] }] as const;

/**
 * One query (`vector`, `input` or `id`; the reply's `results` is its hits) or a batch of them
 * (`vectors`, `inputs` or `ids`; `results` holds the hits of each query, in order).
 */
export const searchSchema = {
  body: {
    type: 'object',
    properties: {
      ...queryOrBatchProps,
      k: { type: 'integer', minimum: 1, maximum: 1000, default: 10 }, filter,
    },
    oneOf: oneQueryOrBatch,
    additionalProperties: false,
  },
  response: {
    200: {
      type: 'object',
      properties: { results: { anyOf: [{ type: 'array', items: hit }, { type: 'array', items: { type: 'array', items: hit } }] } },
    },
    '4xx': errorReply,
  },
} as const;

/** One query's answer of POST /match. */
const matchReply = {
  type: 'object',
  properties: {
    matched: { type: 'boolean' },
    label: {},
    threshold: num,
    thresholdSource: { type: 'string' },
    distance: { type: 'string' },
    nearest: { anyOf: [hit, { type: 'null' }] },
    matches: { type: 'array', items: hit },
  },
} as const;

/**
 * One query (`vector`, `input` or `id`; the reply is its match) or a batch of them (`vectors`,
 * `inputs` or `ids`; the reply's `results` holds the match of each query, in order), as POST /search.
 */
export const matchSchema = {
  body: {
    type: 'object',
    properties: {
      ...queryOrBatchProps,
      k: { type: 'integer', minimum: 1, maximum: 1000, default: 5 },
      threshold: num,
      target: { type: 'string', pattern: '^(precision|recall)@[0-9.]+$' },
      filter,
    },
    oneOf: oneQueryOrBatch,
    additionalProperties: false,
  },
  response: {
    200: { anyOf: [{ type: 'object', properties: { results: { type: 'array', items: matchReply } }, required: ['results'] }, matchReply] },
    '4xx': errorReply,
  },
} as const;

const side = {
  type: 'object',
  properties: queryProps,
  ...oneQuery,
  additionalProperties: false,
} as const;

export const similaritySchema = {
  body: { type: 'object', properties: { a: side, b: side }, required: ['a', 'b'], additionalProperties: false },
  response: { 200: { type: 'object', properties: { cosine: num } }, '4xx': errorReply },
} as const;

export const healthSchema = {
  response: { 200: { type: 'object', properties: { status: { type: 'string' }, uptimeSeconds: num } } },
} as const;

export const infoSchema = {
  response: {
    200: {
      type: 'object',
      properties: {
        index: { type: 'object', properties: { kind: { type: 'string' }, metric: { type: 'string' }, dim: { type: 'integer' }, size: { type: 'integer' } } },
        inputSize: { type: 'integer' },
        calibrated: { type: 'boolean' },
      },
      additionalProperties: true,
    },
  },
} as const;
