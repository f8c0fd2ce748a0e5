/**
 * Distance requirements some losses place on their `distance` option (pytorch-metric-learning's
 * `assert_distance_type`), raised as a {@link ConfigError} that names the option.
 */
import { ConfigError } from '../core/errors.js';
import { toConfig } from '../core/registry.js';
import type { BaseDistance } from '../distances/base-distance.js';
import { CosineSimilarity } from '../distances/cosine-similarity.js';
import { LpDistance } from '../distances/lp-distance.js';

/** Throws unless `distance` is a {@link CosineSimilarity}. */
export function requireCosine(owner: string, distance: BaseDistance): void {
  if (!(distance instanceof CosineSimilarity)) {
    throw new ConfigError(`${owner}: option 'distance' must be a CosineSimilarity (got ${distance.className})`);
  }
}

/** Throws unless `distance` is a similarity (`isInverted`: larger = closer), e.g. CosineSimilarity. */
export function requireSimilarity(owner: string, distance: BaseDistance): void {
  if (!distance.isInverted) {
    throw new ConfigError(`${owner}: option 'distance' must be a similarity such as CosineSimilarity (got ${distance.className})`);
  }
}

/** Throws unless `distance` is an {@link LpDistance} with p = 2 on normalised embeddings (any power). */
export function requireNormalizedL2(owner: string, distance: BaseDistance): void {
  if (!(distance instanceof LpDistance) || distance.p !== 2 || !distance.normalizeEmbeddings) {
    throw new ConfigError(
      `${owner}: option 'distance' must be LpDistance with p 2 and normalizeEmbeddings true (got ${JSON.stringify(toConfig(distance))})`,
    );
  }
}
