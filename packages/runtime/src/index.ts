/**
 * A service process's start-up: configuration, telemetry, the NATS
 * connection and provisioning, the ready line, a clean stop on signals; and
 * the structured logger every service uses.
 */
export { runService, type Started } from './service.ts';
export { createLogger, type Level, type Logger } from './logger.ts';
