import type * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { AkinError } from '../core/errors.js';
import { parseOptions } from '../core/options.js';
import { toConfig } from '../core/registry.js';
import { BaseReducer, type LossTerm } from './base-reducer.js';
import { MeanReducer } from './mean-reducer.js';
import { reducerLikeSchema, resolveReducer, type ReducerLike } from './reducer-spec.js';
import { registry } from './registry.js';

/** Options of {@link MultipleReducers} (PML's keyword arguments, camelCased). */
export interface MultipleReducersOptions {
  /** Sub-loss name (as the loss names it, e.g. `posLoss`) -> the reducer for that sub-loss. Required. */
  reducers: Record<string, ReducerLike>;
  /** The reducer of every sub-loss not named in `reducers`. Default `new MeanReducer()`. */
  defaultReducer?: ReducerLike;
}

const schema = z
  .object({
    reducers: z.record(z.string(), reducerLikeSchema),
    defaultReducer: reducerLikeSchema.optional(),
  })
  .strict();

/**
 * A reducer per sub-loss (PML `MultipleReducers`): each term of the loss dictionary is reduced by the
 * reducer registered under its name (or `defaultReducer`), and the results are summed. Sub-loss names
 * are akin's camelCase ones (`posLoss`, `negLoss`, `embeddingRegLoss`, ...).
 */
export class MultipleReducers extends BaseReducer {
  readonly className: string = 'MultipleReducers';
  readonly reducers: Readonly<Record<string, BaseReducer>>;
  readonly defaultReducer: BaseReducer;

  constructor(options: MultipleReducersOptions) {
    super();
    const o = parseOptions('MultipleReducers', schema, options);
    const built: Record<string, BaseReducer> = {};
    for (const [name, spec] of Object.entries(o.reducers)) built[name] = resolveReducer(spec);
    this.reducers = built;
    this.defaultReducer = o.defaultReducer === undefined ? new MeanReducer() : resolveReducer(o.defaultReducer);
  }

  /** The reducer used for sub-loss `name`. */
  reducerFor(name: string): BaseReducer {
    return Object.hasOwn(this.reducers, name) ? this.reducers[name] : this.defaultReducer;
  }

  protected override reduceNamed(name: string, term: LossTerm, embeddings: tf.Tensor, labels: Int32Array): tf.Scalar {
    const reducer = this.reducerFor(name);
    const out = reducer.reduce({ [name]: term }, embeddings, labels);
    this.records[`${name}.lossesSize`] = reducer.records.lossesSize;
    return out;
  }

  protected reduceLosses(): tf.Scalar {
    throw new AkinError('E_REDUCER', 'MultipleReducers: reduce a loss dictionary with reduce(), not a single term');
  }

  override getConfig(): Record<string, unknown> {
    const reducers: Record<string, unknown> = {};
    for (const [name, r] of Object.entries(this.reducers)) reducers[name] = toConfig(r);
    return { reducers, defaultReducer: toConfig(this.defaultReducer) };
  }
}

registry.register('MultipleReducers', (c) => new MultipleReducers(c as unknown as MultipleReducersOptions));
