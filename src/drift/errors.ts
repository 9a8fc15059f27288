// Typed errors of the drift engine. The HTTP layer maps `code` to a problem+json response.

/** Raised when a feature cannot be evaluated from the values given (empty after cleaning, bad value). */
export class DriftInputError extends Error {
  /** Stable snake_case code for the API layer. */
  readonly code = 'drift_input_invalid';
  /** The feature the problem belongs to. */
  readonly feature: string;

  constructor(feature: string, message: string) {
    super(`feature "${feature}": ${message}`);
    this.name = 'DriftInputError';
    this.feature = feature;
  }
}
