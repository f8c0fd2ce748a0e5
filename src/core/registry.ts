import { ConfigError } from './errors.js';

/** Anything that can describe itself as `{ className, config }`. */
export interface Serializable {
  /** The registered class name, e.g. `'TripletMarginLoss'`. */
  readonly className: string;
  /** The options that rebuild this object (nested components as `{ className, config }`). */
  getConfig(): Record<string, unknown>;
}

/** The saved form of a component: its registered class name and its options. */
export interface ComponentConfig {
  className: string;
  config?: Record<string, unknown>;
}

/** Returns `{ className, config }` for a component. */
export function toConfig(component: Serializable): ComponentConfig {
  return { className: component.className, config: component.getConfig() };
}

/** True when `value` looks like a `{ className, config }` object rather than a live component. */
export function isComponentConfig(value: unknown): value is ComponentConfig {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { className?: unknown }).className === 'string' &&
    typeof (value as { getConfig?: unknown }).getConfig !== 'function'
  );
}

type Factory<T> = (config: Record<string, unknown>) => T;

/**
 * One registry per component family (distances, losses, miners, reducers, ...). Each concrete class
 * registers itself under its class name so that `fromConfig({ className, config })` can rebuild it.
 */
export class Registry<T extends Serializable> {
  private readonly factories = new Map<string, Factory<T>>();
  constructor(readonly family: string) {}

  /** Registers a class (by its static or instance name) under `className`. */
  register(className: string, factory: Factory<T>): void {
    this.factories.set(className, factory);
  }

  /** Names of every registered class, sorted. */
  names(): string[] {
    return [...this.factories.keys()].sort();
  }

  has(className: string): boolean {
    return this.factories.has(className);
  }

  /** Builds a component from `{ className, config }`; passes a live component through unchanged. */
  fromConfig(spec: ComponentConfig | T | string): T {
    if (typeof spec === 'string') spec = { className: spec };
    if (!isComponentConfig(spec)) return spec as T;
    const factory = this.factories.get(spec.className);
    if (!factory) {
      throw new ConfigError(
        `unknown ${this.family} '${spec.className}'; known: ${this.names().join(', ') || '(none registered)'}`,
      );
    }
    return factory(spec.config ?? {});
  }
}
