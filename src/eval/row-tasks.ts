import type { RetrievalMetricName, ScorerOptions } from './retrieval-scores.js';
import { RetrievalScorer } from './retrieval-scores.js';
import { RowSelector } from './row-select.js';
import type { ScoreBlock } from './score-blocks.js';

/**
 * What to do with each row of a score block: plain data (typed arrays, possibly shared), so that
 * worker threads can do the same work on other rows of the same block.
 * - `'knn'`: the best k columns of each row (and their scores' bit patterns) into row-major tables;
 * - `'retrieval'`: each query's retrieval metrics (see `RetrievalScorer`) into per-metric arrays.
 */
export type RowTaskSpec =
  | { kind: 'knn'; columns: number; k: number; excludeSelf: boolean; indices: Int32Array; scoreBits: Int32Array }
  | {
    kind: 'retrieval'; columns: number; sameSource: boolean; scorer: ScorerOptions;
    values: Record<RetrievalMetricName, Float64Array>;
  };

/** Does the task's work for rows `[from, to)` of a block. */
export type RowTask = (block: ScoreBlock, from: number, to: number) => void;

/** The work of a {@link RowTaskSpec}, with its own selection buffers. */
export function rowTask(spec: RowTaskSpec): RowTask {
  const selector = new RowSelector(spec.columns);
  if (spec.kind === 'knn') {
    const { k, excludeSelf, indices, scoreBits } = spec;
    return (block, from, to) => {
      for (let r = from; r < to; r++) {
        const i = block.start + r;
        selector.select(block, r, excludeSelf ? i : -1, k, indices, i * k, scoreBits);
      }
    };
  }
  const scorer = new RetrievalScorer(spec.scorer, spec.values);
  const { sameSource } = spec;
  let ranking = new Int32Array(0);
  return (block, from, to) => {
    for (let r = from; r < to; r++) {
      const i = block.start + r;
      const m = scorer.needed(i);
      if (m === 0) continue;
      if (ranking.length < m) ranking = new Int32Array(m);
      selector.select(block, r, sameSource ? i : -1, m, ranking);
      scorer.score(i, ranking, 0);
    }
  };
}
