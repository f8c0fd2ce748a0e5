import { z } from 'zod';
import { isComponentConfig, type ComponentConfig } from '../core/registry.js';
import { isPairs, isTriplets } from '../core/indices.js';
import { AkinError } from '../core/errors.js';
import { BaseReducer, type LossTerm } from './base-reducer.js';
import { registry } from './registry.js';

/** A reducer given as a live object, as `{ className, config }`, or by class name. */
export type ReducerLike = BaseReducer | ComponentConfig | string;

/** Zod schema for an option holding a {@link ReducerLike}. */
export const reducerLikeSchema = z.custom<ReducerLike>(
  (v) => v instanceof BaseReducer || isComponentConfig(v) || (typeof v === 'string' && v.length > 0),
  { message: 'must be a reducer (e.g. new MeanReducer()), its { className, config } or its class name' },
);

/** Builds the reducer named by `spec` (a live one passes through). */
export function resolveReducer(spec: ReducerLike): BaseReducer {
  return registry.fromConfig(spec);
}

/**
 * The batch index each loss of `term` belongs to: the element index for `element` losses, the anchor
 * for pairs and triplets (PML's `loss_indices[0]`).
 */
export function anchorIndices(term: LossTerm, owner: string): Int32Array {
  const ind = term.indices;
  let out: Int32Array | undefined;
  if (ind instanceof Int32Array) out = ind;
  else if (Array.isArray(ind)) out = ind[0];
  else if (ind && isTriplets(ind)) out = ind.anchors;
  else if (ind && isPairs(ind)) out = term.reductionType === 'neg_pair' ? ind.anchors2 : ind.anchors1;
  if (out === undefined) {
    throw new AkinError('E_REDUCER', `${owner}: a '${term.reductionType}' loss term needs its indices (got ${ind === null ? 'null' : typeof ind})`);
  }
  return out;
}
