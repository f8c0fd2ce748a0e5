/**
 * Errors raised by akin. Every error has a stable `code` so that callers (and the CLI) can react to
 * the kind of failure without parsing messages, and a message that names what was wrong and how to fix it.
 */
export class AkinError extends Error {
  /** Stable machine-readable code, e.g. `E_CONFIG`. */
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
    this.name = new.target.name;
  }
}

/** A component option, config field or CLI flag has a bad value. */
export class ConfigError extends AkinError {
  constructor(message: string) {
    super('E_CONFIG', message);
  }
}

/** `value` when it is one of `allowed`; otherwise a {@link ConfigError}: "`what` must be one of a, b (got 'value')". */
export function oneOf<T extends string>(what: string, allowed: readonly T[], value: unknown): T {
  if (!(allowed as readonly unknown[]).includes(value)) throw new ConfigError(`${what} must be one of ${allowed.join(', ')} (got '${String(value)}')`);
  return value as T;
}

/** Input data is missing, unreadable or malformed. */
export class DataError extends AkinError {
  constructor(message: string) {
    super('E_DATA', message);
  }
}

/** Tensor shapes or label counts do not agree. */
export class ShapeError extends AkinError {
  constructor(message: string) {
    super('E_SHAPE', message);
  }
}
