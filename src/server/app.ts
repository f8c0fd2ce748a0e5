import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import { AkinError } from '../core/errors.js';
import { cosineSimilarity } from '../core/similarity.js';
import { embed } from '../models/embed.js';
import { type PickedThreshold, type ThresholdRequest, pickThreshold, ThresholdError } from '../eval/thresholds.js';
import { searchMany } from '../search/batch.js';
import type { IndexId, SearchFilter, SearchHit } from '../search/types.js';
import { presentedToken, tokenMatcher } from './auth.js';
import type { ServeContext } from './context.js';
import { embedSchema, healthSchema, infoSchema, matchSchema, searchSchema, similaritySchema } from './schemas.js';
import { numericRows, rowName, takesNumbers } from './inputs.js';
import { registerUi } from './ui.js';

/** Options of {@link createApp}. */
export interface AppOptions {
  /** When set, every route except GET /health and the UI's static files needs `Authorization: Bearer <token>`. */
  token?: string;
  /** Largest request body in bytes. Default 4 MiB. */
  bodyLimit?: number;
  /** Serve the browser UI at `/`. Default true. */
  ui?: boolean;
  /** fastify logging. Default false. */
  logger?: boolean;
  /** The run folder served: the projector caches its layout there (see `registerUi`). */
  runDir?: string;
  /** Items shown by the projector at most. Default 1000. */
  layoutPoints?: number;
}

/** An error answered as `{ error: { code, message } }` with an HTTP status. */
export class HttpError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

/** A query as the API takes it: an embedding, a raw model input, or an indexed item's id. */
interface QueryBody {
  vector?: number[];
  /** A raw input of the run's kind: numbers, a text or a row object. */
  input?: unknown;
  id?: IndexId;
}

/** A batch of queries of one kind (POST /search, POST /match). */
interface BatchBody {
  vectors?: number[][];
  inputs?: unknown[];
  ids?: IndexId[];
}

/**
 * Builds the HTTP API (not yet listening): POST /embed, /search, /match, /similarity; GET /health,
 * /info; and the browser UI. Every route has a JSON schema; every error is `{ error: { code, message } }`.
 */
export async function createApp(ctx: ServeContext, options: AppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: options.bodyLimit ?? 4 * 1024 * 1024,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
  });
  const started = Date.now();
  const inputSize = ctx.inputShape.reduce((a, b) => a * b, 1);
  const dim = ctx.index.dim;

  const check = options.token ? tokenMatcher(options.token) : null;
  const open = new Set(['/health', '/', '/app.js', '/app.css']);
  app.addHook('onRequest', async (req) => {
    if (!check || open.has(req.url.split('?')[0])) return;
    if (!check(presentedToken(req.headers))) throw new HttpError(401, 'E_UNAUTHORIZED', "missing or wrong token: send 'Authorization: Bearer <token>'");
  });

  app.setErrorHandler((err: FastifyError | HttpError | AkinError, req, reply) => {
    if (err instanceof HttpError) return reply.status(err.status).send({ error: { code: err.code, message: err.message } });
    if (err instanceof ThresholdError) return reply.status(422).send({ error: { code: err.code, message: err.message } });
    // A database behind the index (pgvector) that fails is the server's trouble, not the request's.
    if (err instanceof AkinError) return reply.status(err.code === 'E_DATABASE' ? 503 : 400).send({ error: { code: err.code, message: err.message } });
    const fe = err as FastifyError;
    if (fe.validation) {
      const v = fe.validation[0];
      const path = `${fe.validationContext ?? 'body'}${(v.instancePath ?? '').replace(/\//g, '.')}`;
      const missing = (v.params as { missingProperty?: string })?.missingProperty;
      const extra = (v.params as { additionalProperty?: string })?.additionalProperty;
      const queryField = ['vector', 'input', 'id', 'vectors', 'inputs', 'ids'].includes(missing ?? '');
      const batch = ['/search', '/match'].includes(req.url.split('?')[0]) ? " (or, for a batch, one of 'vectors', 'inputs' or 'ids')" : '';
      const msg = v.keyword === 'oneOf' || (queryField && fe.validation.some((e) => e.keyword === 'oneOf'))
        ? `${path}: give exactly one of 'vector', 'input' or 'id'${batch}`
        : missing ? `${path}.${missing} is required`
        : extra ? `${path}.${extra} is not a known field`
        : `${path} ${v.message ?? 'is invalid'}`;
      return reply.status(400).send({ error: { code: 'E_VALIDATION', message: msg } });
    }
    const status = fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500 ? fe.statusCode : 500;
    if (status === 500) req.log.error(err);
    const code = status === 413 ? 'E_TOO_LARGE' : status === 415 ? 'E_MEDIA_TYPE' : status === 500 ? 'E_INTERNAL' : 'E_BAD_REQUEST';
    return reply.status(status).send({ error: { code, message: status === 500 ? 'internal error' : fe.message } });
  });
  app.setNotFoundHandler((req, reply) => reply.status(404).send({ error: { code: 'E_NOT_FOUND', message: `no route ${req.method} ${req.url.split('?')[0]}` } }));

  /**
   * Embeds raw inputs (through the run's preprocessing, else numbers of inputSize each); `field` names
   * the request field in errors, with the row's index when it is a batch (`inputs`).
   */
  const embedRows = async (rows: unknown[], field: string, batch: boolean): Promise<Float32Array> => {
    let flat: Float32Array;
    const numeric = takesNumbers(ctx.inputs?.kind);
    const values = numeric ? numericRows(rows, field, batch) : rows;
    if (ctx.inputs) {
      // The run's parsers name row i only when there are several rows; a batch of one names its row too.
      flat = ctx.inputs.parse(values, batch && rows.length === 1 ? rowName(field, 0, true) : field);
    } else {
      flat = new Float32Array(rows.length * inputSize);
      values.forEach((r, i) => {
        if (!Array.isArray(r) || r.length !== inputSize) {
          throw new HttpError(400, 'E_VALIDATION', `${rowName(field, i, batch)} has ${Array.isArray(r) ? r.length : 'no'} values; the model takes ${inputSize}`);
        }
        flat.set(r as number[], i * inputSize);
      });
    }
    const { embeddings } = await embed(ctx.model, flat, rows.length, ctx.inputShape);
    return embeddings;
  };

  /** The embedding a query body names. */
  const queryVector = async (q: QueryBody, field: string): Promise<Float32Array> => {
    if (q.vector) {
      if (q.vector.length !== dim) throw new HttpError(400, 'E_VALIDATION', `${field}.vector has ${q.vector.length} values; the index has dim ${dim}`);
      return Float32Array.from(q.vector);
    }
    if (q.input !== undefined) return embedRows([q.input], `${field}.input`, false);
    const v = await ctx.index.getVector(q.id!);
    if (!v) throw new HttpError(404, 'E_NOT_FOUND', `${field}.id ${JSON.stringify(q.id)} is not in the index`);
    return v;
  };

  /** Search, dropping the query item itself when searching by id. */
  const searchFor = async (q: QueryBody, k: number, filter?: SearchFilter): Promise<SearchHit[]> => {
    const v = await queryVector(q, 'body');
    const byId = q.id !== undefined;
    const hits = await ctx.index.search(v, byId ? k + 1 : k, { filter });
    return (byId ? hits.filter((h) => h.id !== q.id) : hits).slice(0, k);
  };

  app.post<{ Body: { inputs: unknown[] } }>('/embed', { schema: embedSchema }, async (req) => {
    const e = await embedRows(req.body.inputs, 'body.inputs', true);
    const d = e.length / req.body.inputs.length;
    return { dim: d, embeddings: req.body.inputs.map((_, i) => Array.from(e.subarray(i * d, (i + 1) * d))) };
  });

  /**
   * A batch of queries in one pass: raw inputs embedded in one forward pass, then every query
   * searched at once (`searchMany`: the exact index's tiled k-NN, one SQL statement for pgvector).
   */
  const searchBatchFor = async (b: BatchBody, k: number, filter?: SearchFilter): Promise<SearchHit[][]> => {
    let queries: Float32Array;
    if (b.vectors) {
      queries = new Float32Array(b.vectors.length * dim);
      b.vectors.forEach((v, i) => {
        if (v.length !== dim) throw new HttpError(400, 'E_VALIDATION', `body.vectors[${i}] has ${v.length} values; the index has dim ${dim}`);
        queries.set(v, i * dim);
      });
    } else if (b.inputs) {
      queries = await embedRows(b.inputs, 'body.inputs', true);
    } else {
      const ids = b.ids!;
      queries = new Float32Array(ids.length * dim);
      for (let i = 0; i < ids.length; i++) {
        const v = await ctx.index.getVector(ids[i]);
        if (!v) throw new HttpError(404, 'E_NOT_FOUND', `body.ids[${i}] ${JSON.stringify(ids[i])} is not in the index`);
        queries.set(v, i * dim);
      }
    }
    const ids = b.ids;
    const hits = await searchMany(ctx.index, queries, ids ? k + 1 : k, { filter });
    return hits.map((h, i) => (ids ? h.filter((x) => x.id !== ids[i]) : h).slice(0, k));
  };

  app.post<{ Body: QueryBody & BatchBody & { k: number; filter?: SearchFilter } }>('/search', { schema: searchSchema }, async (req) => {
    const b = req.body;
    if (b.vectors || b.inputs || b.ids) return { results: await searchBatchFor(b, b.k, b.filter) };
    return { results: await searchFor(b, b.k, b.filter) };
  });

  /** One query's answer of POST /match: its hits within `picked.threshold` and the label of the nearest. */
  const matchReply = (hits: SearchHit[], picked: PickedThreshold): Record<string, unknown> => {
    // Calibrated thresholds are in the index's own distance units (cosine 1 - cos, l2 squared, ip -ip).
    const matches = hits.filter((h) => h.distance <= picked.threshold);
    const nearest = hits[0] ?? null;
    return {
      matched: matches.length > 0,
      label: matches.length > 0 ? (nearest?.metadata?.label ?? nearest?.id ?? null) : null,
      threshold: picked.threshold,
      thresholdSource: picked.source,
      distance: picked.distance,
      nearest,
      matches,
    };
  };

  app.post<{ Body: QueryBody & BatchBody & ThresholdRequest & { k: number; filter?: SearchFilter } }>('/match', { schema: matchSchema }, async (req) => {
    const b = req.body;
    const picked = pickThreshold(ctx.thresholds, b, ctx.index.metric, { threshold: 'body.threshold', target: 'body.target' });
    if (b.vectors || b.inputs || b.ids) return { results: (await searchBatchFor(b, b.k, b.filter)).map((hits) => matchReply(hits, picked)) };
    return matchReply(await searchFor(b, b.k, b.filter), picked);
  });

  app.post<{ Body: { a: QueryBody; b: QueryBody } }>('/similarity', { schema: similaritySchema }, async (req) => {
    const a = await queryVector(req.body.a, 'body.a');
    const b = await queryVector(req.body.b, 'body.b');
    if (a.length !== b.length) throw new HttpError(400, 'E_VALIDATION', `body.a and body.b have different lengths (${a.length}, ${b.length})`);
    return { cosine: cosineSimilarity(a, b) };
  });

  app.get('/health', { schema: healthSchema }, async () => ({ status: 'ok', uptimeSeconds: (Date.now() - started) / 1000 }));

  app.get('/info', { schema: infoSchema }, async () => ({
    ...ctx.info,
    index: { kind: ctx.index.kind, metric: ctx.index.metric, dim: ctx.index.dim, size: ctx.index.size },
    inputSize,
    calibrated: ctx.thresholds !== null,
  }));

  if (options.ui !== false) registerUi(app, ctx, { runDir: options.runDir, maxPoints: options.layoutPoints });
  return app;
}
