import { z } from 'zod';
import { ConfigError, ShapeError } from '../core/errors.js';
import type { IndexTuple } from '../core/indices.js';
import { parseOptions } from '../core/options.js';
import { toConfig, type ComponentConfig } from '../core/registry.js';
import type { BaseMiner } from '../miners/base-miner.js';
import type { LossDict } from '../reducers/base-reducer.js';
import type { BaseMetricLoss, LossInput } from './base-loss.js';
import {
  LossWrapper, lossSpecSchema, minerSpecSchema, reducedTerm, resolveLoss, resolveMiner, type LossSpec, type MinerSpec,
} from './loss-wrapper.js';
import { registry } from './registry.js';

/** Options of {@link MultipleLosses} (PML's keyword arguments). */
export interface MultipleLossesOptions {
  /** The losses, as a list or as a name -> loss map. Required (at least one). */
  losses: LossSpec[] | Record<string, LossSpec>;
  /**
   * A miner per loss: a list as long as `losses` (`null` where a loss has none), or a map whose names
   * are some of the losses' names. With miners, `compute` takes no index tuples. Default: none.
   */
  miners?: (MinerSpec | null)[] | Record<string, MinerSpec>;
  /** A weight per loss: a list as long as `losses`, or a map naming every loss. Default: all `1`. */
  weights?: number[] | Record<string, number>;
}

const schema = z
  .object({
    losses: z.union([z.array(lossSpecSchema).min(1), z.record(z.string(), lossSpecSchema)]),
    miners: z.union([z.array(minerSpecSchema.nullable()), z.record(z.string(), minerSpecSchema)]).optional(),
    weights: z.union([z.array(z.number().finite()), z.record(z.string(), z.number().finite())]).optional(),
  })
  .strict();

/**
 * A weighted sum of losses (PML `MultipleLosses`): `sum_k weights[k] * losses[k](embeddings, labels,
 * tuples_k)`, where `tuples_k` come from loss k's miner when it has one and are the given index tuples
 * otherwise. Losses given as a map keep their names; as a list they are named `'0'`, `'1'`, ...; the
 * weighted value of each is one `already_reduced` term of {@link computeLossDict}. Reference embeddings,
 * when given, go to every loss and miner.
 */
export class MultipleLosses extends LossWrapper {
  readonly className: string = 'MultipleLosses';
  /** The loss names (`'0'`, `'1'`, ... for a list), in order. */
  readonly names: readonly string[];
  /** Whether the losses were given as a map (their configs keep that form). */
  readonly isMap: boolean;
  /** The losses by name. */
  readonly losses: Readonly<Record<string, BaseMetricLoss>>;
  /** The miners by loss name (losses without one are absent). */
  readonly miners: Readonly<Record<string, BaseMiner>>;
  /** The weights by loss name. */
  readonly weights: Readonly<Record<string, number>>;
  private readonly hasMiners: boolean;

  constructor(options: MultipleLossesOptions) {
    super();
    const o = parseOptions('MultipleLosses', schema, options);
    this.isMap = !Array.isArray(o.losses);
    const entries = Object.entries(o.losses);
    if (entries.length === 0) throw new ConfigError("MultipleLosses: option 'losses' must name at least one loss");
    this.names = entries.map(([name]) => name);
    this.losses = Object.fromEntries(entries.map(([name, spec]) => [name, resolveLoss(spec)]));
    this.miners = this.buildMiners(o.miners);
    this.hasMiners = o.miners !== undefined && Object.keys(o.miners).length > 0;
    this.weights = this.buildWeights(o.weights);
  }

  innerLosses(): BaseMetricLoss[] {
    return this.names.map((name) => this.losses[name]);
  }

  override subLossNames(): string[] {
    return [...this.names];
  }

  protected computeLoss(input: LossInput): LossDict {
    if (this.hasMiners && input.indices !== undefined) {
      throw new ShapeError('MultipleLosses: index tuples cannot be given when the losses have miners (the miners make them)');
    }
    const dict: LossDict = {};
    for (const name of this.names) {
      const miner = Object.hasOwn(this.miners, name) ? this.miners[name] : undefined;
      const indices: IndexTuple | undefined = miner
        ? miner.mine(input.embeddings, input.labels, input.refEmbeddings, input.refLabels)
        : input.indices;
      const value = this.losses[name].compute(input.embeddings, input.labels, indices, input.refEmbeddings, input.refLabels);
      const w = this.weights[name];
      dict[name] = reducedTerm(w === 1 ? value : value.mul(w));
    }
    return dict;
  }

  getConfig(): Record<string, unknown> {
    const byName = <U>(names: readonly string[], f: (name: string) => U): U[] | Record<string, U> =>
      this.isMap ? Object.fromEntries(names.map((name) => [name, f(name)])) : names.map(f);
    const config: Record<string, unknown> = {
      losses: byName(this.names, (name) => toConfig(this.losses[name])),
      weights: byName(this.names, (name) => this.weights[name]),
    };
    if (this.hasMiners) {
      const has = (name: string): boolean => Object.hasOwn(this.miners, name);
      config.miners = this.isMap
        ? byName(this.names.filter(has), (name) => toConfig(this.miners[name]))
        : this.names.map((name): ComponentConfig | null => (has(name) ? toConfig(this.miners[name]) : null));
    }
    return config;
  }

  private buildMiners(miners: MultipleLossesOptions['miners']): Record<string, BaseMiner> {
    const out: Record<string, BaseMiner> = {};
    if (miners === undefined) return out;
    if (Array.isArray(miners) !== !this.isMap) {
      throw new ConfigError(`MultipleLosses: option 'miners' must be a ${this.isMap ? 'map' : 'list'}, like 'losses'`);
    }
    if (Array.isArray(miners)) {
      if (miners.length !== this.names.length) {
        throw new ConfigError(`MultipleLosses: option 'miners' has ${miners.length} entries but 'losses' has ${this.names.length}`);
      }
      miners.forEach((spec, i) => { if (spec !== null) out[this.names[i]] = resolveMiner(spec); });
      return out;
    }
    for (const [name, spec] of Object.entries(miners)) {
      if (!Object.hasOwn(this.losses, name)) {
        throw new ConfigError(`MultipleLosses: option 'miners' names '${name}', which is not a loss (losses: ${this.names.join(', ')})`);
      }
      out[name] = resolveMiner(spec);
    }
    return out;
  }

  private buildWeights(weights: MultipleLossesOptions['weights']): Record<string, number> {
    if (weights === undefined) return Object.fromEntries(this.names.map((name) => [name, 1]));
    if (Array.isArray(weights) !== !this.isMap) {
      throw new ConfigError(`MultipleLosses: option 'weights' must be a ${this.isMap ? 'map' : 'list'}, like 'losses'`);
    }
    if (Array.isArray(weights)) {
      if (weights.length !== this.names.length) {
        throw new ConfigError(`MultipleLosses: option 'weights' has ${weights.length} entries but 'losses' has ${this.names.length}`);
      }
      return Object.fromEntries(this.names.map((name, i) => [name, weights[i]]));
    }
    const keys = Object.keys(weights).sort();
    if (keys.join('\u0000') !== [...this.names].sort().join('\u0000')) {
      throw new ConfigError(`MultipleLosses: option 'weights' must name exactly the losses (${this.names.join(', ')}; got ${keys.join(', ')})`);
    }
    return { ...weights };
  }
}

registry.register('MultipleLosses', (c) => new MultipleLosses(c as unknown as MultipleLossesOptions));
