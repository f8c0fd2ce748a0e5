import type * as tf from '@tensorflow/tfjs';
import { parseOptions } from '../core/options.js';
import { toConfig } from '../core/registry.js';
import type { BaseDistance } from '../distances/base-distance.js';
import { LpDistance } from '../distances/lp-distance.js';
import type { BaseReducer, LossDict } from '../reducers/base-reducer.js';
import { resolveDistance, type LossInput } from './base-loss.js';
import { ncaLosses, ncaSchema, type NCALossOptions } from './nca.js';
import { ParametricLoss, parametricFields, type ParametricLossOptions } from './parametric-loss.js';
import { registry } from './registry.js';

/** Options of {@link ProxyNCALoss} (PML's keyword arguments, in camelCase). */
export interface ProxyNCALossOptions extends NCALossOptions, ParametricLossOptions {
}

const schema = ncaSchema.extend(parametricFields).strict();

/**
 * Proxy-NCA (Movshovitz-Attias et al. 2017; PML `ProxyNCALoss`): NCA with one trainable proxy per class
 * as the reference set (`proxies` [numClasses, embeddingSize], N(0, 1) initialisation):
 * `-log softmax_{y_i}(-softmaxScale * d(x_i, p_c))`, d = squared L2 on normalised vectors by default.
 * Miner tuples weight elements by their anchor counts. Reduction type `element`.
 */
export class ProxyNCALoss extends ParametricLoss {
  readonly className: string = 'ProxyNCALoss';
  readonly numClasses: number;
  readonly embeddingSize: number;
  readonly softmaxScale: number;
  readonly seed: number;
  readonly distance: BaseDistance;
  /** The class proxies, [numClasses, embeddingSize]. */
  readonly proxies: tf.Variable<tf.Rank.R2>;
  private readonly proxyLabels: Int32Array;

  constructor(options: ProxyNCALossOptions) {
    super();
    const o = parseOptions('ProxyNCALoss', schema, options);
    this.numClasses = o.numClasses;
    this.embeddingSize = o.embeddingSize;
    this.softmaxScale = o.softmaxScale;
    this.seed = o.seed;
    this.distance = resolveDistance(o.distance, () => new LpDistance({ power: 2 }));
    this.setReducer(o.reducer);
    this.proxies = this.addWeight(o.numClasses, o.embeddingSize, 'normal', o.seed);
    this.proxyLabels = Int32Array.from({ length: o.numClasses }, (_, i) => i);
  }

  protected computeLoss(input: LossInput): LossDict {
    this.checkClassInput(input);
    const proxies = this.proxies as tf.Tensor2D;
    return { loss: ncaLosses(this.distance, this.softmaxScale, input.embeddings, input.labels, proxies, this.proxyLabels, input.indices) };
  }

  /** The proxies, one row per class (as PML regularizes them). */
  protected override regularizedWeights(): tf.Tensor2D {
    return this.proxies;
  }

  getConfig(): Record<string, unknown> {
    return {
      numClasses: this.numClasses, embeddingSize: this.embeddingSize, softmaxScale: this.softmaxScale, seed: this.seed,
      distance: toConfig(this.distance), reducer: toConfig(this.reducer),
    };
  }
}

registry.register('ProxyNCALoss', (c) => new ProxyNCALoss(c as unknown as ProxyNCALossOptions));
