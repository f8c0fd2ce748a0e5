/**
 * Data augmentation for images in the training input pipeline: random shifts (a random crop of the
 * zero-padded image), horizontal flips, small Gaussian noise and random erasing. The Trainer applies
 * an augmenter to training batches only, drawing from a random source seeded per epoch, so a run is
 * reproducible and a resumed run draws the same augmentations as an uninterrupted one.
 */
import { z } from 'zod';
import { ConfigError } from '../core/errors.js';
import { parseOptions } from '../core/options.js';
import { randInt, randNormal, type Random } from '../core/random.js';

/** Options of {@link ImageAugmenter}. Every option defaults to "off". */
export interface ImageAugmentOptions {
  /**
   * Random crop with padding: the image is padded with `padValue` by `pad` pixels on every side and a
   * window of the original size is cropped at a random offset, i.e. shifted by up to `pad` pixels in
   * each direction. Default `0` (no shift).
   */
  pad?: number;
  /** The value padded pixels take. Default `0` (the background of Fashion-MNIST and MNIST). */
  padValue?: number;
  /** Probability of flipping an image left-right. Default `0`. */
  flip?: number;
  /** Standard deviation of Gaussian noise added to every feature. Default `0`. */
  noise?: number;
  /** Clip values to [`clipMin`, `clipMax`] after adding noise. Default `true` (with `[0, 1]`). */
  clip?: boolean;
  clipMin?: number;
  clipMax?: number;
  /**
   * Random erasing (Zhong et al. 2020): with this probability a rectangle covering between
   * `eraseScale[0]` and `eraseScale[1]` of the image's area is set to `padValue`. Default `0`.
   */
  erase?: number;
  /** Area fraction range of an erased rectangle. Default `[0.02, 0.2]`. */
  eraseScale?: [number, number];
}

export const imageAugmentSchema = z
  .object({
    pad: z.number().int().min(0).max(64).default(0),
    padValue: z.number().finite().default(0),
    flip: z.number().min(0).max(1).default(0),
    noise: z.number().min(0).max(10).default(0),
    clip: z.boolean().default(true),
    clipMin: z.number().finite().default(0),
    clipMax: z.number().finite().default(1),
    erase: z.number().min(0).max(1).default(0),
    eraseScale: z
      .tuple([z.number().gt(0).max(1), z.number().gt(0).max(1)])
      .default([0.02, 0.2])
      .refine(([a, b]) => a <= b, { message: 'must be [low, high] with low <= high' }),
  })
  .strict();

/** Parsed augmentation options (every default filled in). */
export type ImageAugmentConfig = z.output<typeof imageAugmentSchema>;

/**
 * Augments batches of images stored flat, `[height, width, channels]` per sample (channels last, as
 * {@link Dataset} holds them). Each image gets, in this order: a random shift by pad-and-crop, a
 * left-right flip, random erasing, then noise (clipped). The source array is never modified.
 *
 * ```ts
 * const aug = new ImageAugmenter({ pad: 2, flip: 0.5 });
 * const out = aug.apply(batch, 256, [28, 28, 1], createRandom(1));
 * ```
 */
export class ImageAugmenter {
  readonly className = 'ImageAugmenter';
  readonly options: ImageAugmentConfig;

  /** @throws ConfigError naming a bad option */
  constructor(options: ImageAugmentOptions = {}) {
    this.options = parseOptions('ImageAugmenter', imageAugmentSchema, options);
  }

  /** True when every transformation is off (apply would copy its input). */
  get isIdentity(): boolean {
    const o = this.options;
    return o.pad === 0 && o.flip === 0 && o.noise === 0 && o.erase === 0;
  }

  /**
   * Returns augmented copies of `count` images of `shape` stored flat in `features`.
   *
   * @throws ConfigError when `shape` is not `[height, width, channels]` or `features` is too short
   */
  apply(features: Float32Array, count: number, shape: number[], random: Random): Float32Array {
    if (shape.length !== 3) {
      throw new ConfigError(`ImageAugmenter: images must have shape [height, width, channels] (got [${shape.join(', ')}]); augmentation applies to image inputs only`);
    }
    const [h, w, c] = shape;
    const size = h * w * c;
    if (features.length < count * size) {
      throw new ConfigError(`ImageAugmenter: ${count} images of [${shape.join(', ')}] need ${count * size} values, got ${features.length}`);
    }
    const o = this.options;
    const out = new Float32Array(count * size);
    for (let i = 0; i < count; i++) {
      const src = features.subarray(i * size, (i + 1) * size);
      const dst = out.subarray(i * size, (i + 1) * size);
      // Draw every random number of an image in a fixed order, whether or not a step is on.
      const dx = o.pad > 0 ? randInt(random, 2 * o.pad + 1) - o.pad : 0;
      const dy = o.pad > 0 ? randInt(random, 2 * o.pad + 1) - o.pad : 0;
      const flip = o.flip > 0 && random.next() < o.flip;
      shiftFlip(src, dst, h, w, c, dx, dy, flip, o.padValue);
      if (o.erase > 0 && random.next() < o.erase) eraseRect(dst, h, w, c, o.eraseScale, o.padValue, random);
      if (o.noise > 0) {
        for (let k = 0; k < size; k++) {
          const v = dst[k] + o.noise * randNormal(random);
          dst[k] = o.clip ? Math.min(o.clipMax, Math.max(o.clipMin, v)) : v;
        }
      }
    }
    return out;
  }

  /** The options that rebuild this augmenter. */
  getConfig(): ImageAugmentConfig {
    return { ...this.options, eraseScale: [...this.options.eraseScale] as [number, number] };
  }

  static fromConfig(config: ImageAugmentOptions): ImageAugmenter {
    return new ImageAugmenter(config);
  }
}

/**
 * `dst(y, x) = src(y - dy, x' - dx)` with `x' = w - 1 - x` when flipped: the image moves by `dx` to the
 * right and `dy` down (pixels that come from outside are `fill`), then is mirrored.
 */
function shiftFlip(
  src: Float32Array, dst: Float32Array, h: number, w: number, c: number, dx: number, dy: number, flip: boolean, fill: number,
): void {
  for (let y = 0; y < h; y++) {
    const sy = y - dy;
    for (let x = 0; x < w; x++) {
      const sx = (flip ? w - 1 - x : x) - dx;
      const o = (y * w + x) * c;
      if (sy < 0 || sy >= h || sx < 0 || sx >= w) {
        for (let k = 0; k < c; k++) dst[o + k] = fill;
      } else {
        const s = (sy * w + sx) * c;
        for (let k = 0; k < c; k++) dst[o + k] = src[s + k];
      }
    }
  }
}

function eraseRect(dst: Float32Array, h: number, w: number, c: number, scale: [number, number], fill: number, random: Random): void {
  const area = (scale[0] + (scale[1] - scale[0]) * random.next()) * h * w;
  const aspect = Math.exp(Math.log(0.3) + (Math.log(3.3) - Math.log(0.3)) * random.next());
  const eh = Math.max(1, Math.min(h, Math.round(Math.sqrt(area * aspect))));
  const ew = Math.max(1, Math.min(w, Math.round(Math.sqrt(area / aspect))));
  const y0 = randInt(random, h - eh + 1);
  const x0 = randInt(random, w - ew + 1);
  for (let y = y0; y < y0 + eh; y++) for (let x = x0; x < x0 + ew; x++) for (let k = 0; k < c; k++) dst[(y * w + x) * c + k] = fill;
}
