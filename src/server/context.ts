import * as tf from '@tensorflow/tfjs';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataError } from '../core/errors.js';
import type { Dataset } from '../data/dataset.js';
import { loadRun, parseRunInputs, readRunInputs } from '../pipeline/run.js';
import { loadRunData, type RunData } from '../pipeline/data.js';
import type { SavedThresholds } from '../eval/thresholds.js';
import { loadIndex } from '../search/factory.js';
import type { NearestNeighborIndex } from '../search/types.js';

/** Which data of a run an index holds. */
export type IndexSplit = 'unseen' | 'seen' | 'train' | 'validation';

/** What `akin index build` records beside the index (`index-source.json` in the run folder). */
export interface IndexSource {
  split: IndexSplit;
  /** Data source the items were loaded from. */
  data: string;
  count: number;
  kind: string;
  built: string;
}

/** Name of the index folder and its source record inside a run folder. */
export const RUN_INDEX_DIR = 'index';
export const RUN_INDEX_SOURCE = 'index-source.json';

/** Everything the server answers from. */
export interface ServeContext {
  /** The embedding network. */
  model: tf.LayersModel;
  /** Shape of one model input, e.g. `[784]` or `[28, 28, 1]`. */
  inputShape: number[];
  /**
   * The run's input kind (`images`, `text`, `tabular`, `vectors`, ...) and its saved preprocessing:
   * `parse` turns raw inputs sent as JSON (a string per text, an object per CSV row, an array per
   * vector or image) into model inputs (`count * size(inputShape)` values); `read` does the same for
   * a file. Absent in hand-made contexts, which then take numeric inputs of `inputShape` only.
   */
  inputs?: {
    kind: string;
    parse(values: unknown[], field: string): Float32Array;
    read(path: string): Promise<{ features: Float32Array; count: number }>;
  };
  /** The index searched. Item ids are row numbers of `items` when `items` is given. */
  index: NearestNeighborIndex;
  /** Calibrated thresholds for /match, or null. */
  thresholds: SavedThresholds | null;
  /** The indexed items' inputs and labels (for search by id with raw inputs, thumbnails and the projector). */
  items?: Dataset;
  /** Shown by GET /info. */
  info: Record<string, unknown>;
}

/** The dataset of a split. */
export function pickSplit(data: RunData, split: IndexSplit): Dataset {
  const ds = split === 'unseen' ? data.testUnseen : split === 'seen' ? data.testSeen : split === 'train' ? data.train : data.validation;
  if (!ds) throw new DataError(`the run has no '${split}' split (validation is 0?)`);
  return ds;
}

/** Opens a run folder for serving: model, index (built by `akin index build`), thresholds, items. */
export async function openRunContext(runDir: string, options: { loadItems?: boolean } = {}): Promise<ServeContext> {
  const run = await loadRun(runDir);
  const indexDir = join(runDir, RUN_INDEX_DIR);
  if (!existsSync(indexDir)) throw new DataError(`${runDir} has no index: run 'akin index build --run ${runDir}' first`);
  const index = await loadIndex(indexDir);
  const preprocessing = run.preprocessing;
  const srcPath = join(runDir, RUN_INDEX_SOURCE);
  const source = existsSync(srcPath) ? (JSON.parse(readFileSync(srcPath, 'utf8')) as IndexSource) : null;
  let items: Dataset | undefined;
  if (options.loadItems !== false && source) {
    const data = await loadRunData(run.config, { source: source.data, preprocessing });
    items = pickSplit(data, source.split);
    if (items.count !== source.count) items = undefined; // the data changed since the index was built: no raw inputs
  }
  const inputShape = run.model.inputs[0].shape.slice(1) as number[];
  const outShape = run.model.outputs[0].shape;
  return {
    model: run.model,
    inputShape,
    inputs: {
      kind: run.config.data.kind,
      parse: (values, field) => parseRunInputs(run, values, field),
      read: (path) => readRunInputs(run, path),
    },
    index,
    thresholds: run.thresholds,
    items,
    info: {
      run: run.config.name,
      model: run.config.model,
      loss: run.config.loss.className,
      inputKind: run.config.data.kind,
      inputShape,
      embeddingDim: outShape[outShape.length - 1],
      indexSplit: source?.split ?? null,
      classNames: items?.classNames ?? null,
    },
  };
}
