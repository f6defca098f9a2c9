/** A setting that is missing, malformed or contradicts another: said once, clearly, at start. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}
