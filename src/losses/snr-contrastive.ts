import { ConfigError } from '../core/errors.js';
import { SNRDistance } from '../distances/snr-distance.js';
import { registry as distanceRegistry } from '../distances/index.js';
import { ContrastiveLoss, type ContrastiveLossOptions } from './contrastive.js';
import { registry } from './registry.js';

/** Options of {@link SignalToNoiseRatioContrastiveLoss}: ContrastiveLoss's (posMargin default `0`, negMargin default `1`, reducer default `AvgNonZeroReducer`); distance default `SNRDistance()`. */
export type SignalToNoiseRatioContrastiveLossOptions = ContrastiveLossOptions;

/**
 * Signal-to-noise-ratio contrastive loss (Yuan et al. 2019; PML `SignalToNoiseRatioContrastiveLoss`):
 * ContrastiveLoss with the SNR distance `var(a - b) / var(a)` (the only distance allowed).
 */
export class SignalToNoiseRatioContrastiveLoss extends ContrastiveLoss {
  override readonly className: string = 'SignalToNoiseRatioContrastiveLoss';

  constructor(options: SignalToNoiseRatioContrastiveLossOptions = {}) {
    const distance = options.distance === undefined ? new SNRDistance() : distanceRegistry.fromConfig(options.distance);
    if (!(distance instanceof SNRDistance)) {
      throw new ConfigError(`SignalToNoiseRatioContrastiveLoss: option 'distance' must be an SNRDistance (got ${distance.className})`);
    }
    super({ ...options, distance });
  }
}

registry.register('SignalToNoiseRatioContrastiveLoss', (c) => new SignalToNoiseRatioContrastiveLoss(c as SignalToNoiseRatioContrastiveLossOptions));
