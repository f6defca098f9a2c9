import { describe, expect, it } from 'vitest';
import { ConfigError, DEFAULT_DELIVERY_SCHEDULE_MS, clientEnv, loadConfig, logLevel, parseDeliverySchedule } from './index.ts';

describe('the one configuration', () => {
  it('gives the notifier\'s knobs their defaults', () => {
    const c = loadConfig({ PORT: '9000' });
    expect(c.publicUrl).toBe('http://127.0.0.1:9000');
    expect(c.deliverySchedule).toEqual([...DEFAULT_DELIVERY_SCHEDULE_MS]);
    expect(c.ERRAND_DELIVERY_TIMEOUT_MS).toBe(15_000);
    expect(c.ERRAND_NOTIFIER_MAX_ACK_PENDING).toBe(10_000);
    expect(c.ERRAND_NOTIFIER_ACK_WAIT_MS).toBe(10_000);
    expect(c.ERRAND_NOTIFIER_CONCURRENCY).toBe(32);
    expect(c.ERRAND_NOTIFIER_CACHE).toBe(10_000);
    expect(c.ERRAND_NOTIFIER_PARTITIONS).toBe(1);
  });

  it('reads them from the environment, trims the public URL and caps partitions at 64', () => {
    const c = loadConfig({ ERRAND_PUBLIC_URL: 'https://errand.example/', ERRAND_DELIVERY_SCHEDULE_MS: '10, 20,30', ERRAND_NOTIFIER_PARTITIONS: '100' });
    expect(c.publicUrl).toBe('https://errand.example');
    expect(c.deliverySchedule).toEqual([10, 20, 30]);
    expect(c.ERRAND_NOTIFIER_PARTITIONS).toBe(64);
  });

  it('paces the projector by its store unless told: 50 ms embedded, 20 ms on PostgreSQL', () => {
    expect(loadConfig({}).projectorIntervalMs).toBe(50);
    expect(loadConfig({ ERRAND_DATABASE_URL: 'postgres://db/errand' }).projectorIntervalMs).toBe(20);
    expect(loadConfig({ ERRAND_PROJECTOR_INTERVAL_MS: '0' }).projectorIntervalMs).toBe(0);
    expect(loadConfig({ ERRAND_DATABASE_URL: 'postgres://db/errand', ERRAND_PROJECTOR_INTERVAL_MS: '100' }).projectorIntervalMs).toBe(100);
    expect(() => loadConfig({ ERRAND_PROJECTOR_INTERVAL_MS: '-1' })).toThrow(/ERRAND_PROJECTOR_INTERVAL_MS/);
  });

  it('refuses junk with the variable\'s name', () => {
    expect(() => loadConfig({ ERRAND_NOTIFIER_ACK_WAIT_MS: '10' })).toThrow(/ERRAND_NOTIFIER_ACK_WAIT_MS/);
    expect(() => loadConfig({ ERRAND_NOTIFIER_CONCURRENCY: 'many' })).toThrow(ConfigError);
    expect(() => loadConfig({ ERRAND_DELIVERY_SCHEDULE_MS: '10,x' })).toThrow(/ERRAND_DELIVERY_SCHEDULE_MS/);
    expect(() => parseDeliverySchedule('-5')).toThrow(ConfigError);
    expect(() => loadConfig({ LOG_LEVEL: 'loud' })).toThrow(/LOG_LEVEL/);
  });

  it('reads LOG_LEVEL alone (unknown = info) and the client\'s own variables', () => {
    expect(logLevel({ LOG_LEVEL: 'debug' })).toBe('debug');
    expect(logLevel({ LOG_LEVEL: 'loud' })).toBe('info');
    expect(logLevel({})).toBe('info');
    expect(clientEnv({ ERRAND_URL: 'http://x:1', NATS_URL: '', OTHER: 'y' })).toEqual({ ERRAND_URL: 'http://x:1', NATS_URL: 'nats://127.0.0.1:4222', ERRAND_TENANT: 'default' });
  });
});
