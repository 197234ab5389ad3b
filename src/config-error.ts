/**
 * A setting the service cannot start with (a bad flag, an unusable data directory, an
 * address that cannot be listened on, a bad accounts file or certificate): start-up stops
 * with one line naming it and exit code 2.
 */
export class ConfigError extends Error {}
