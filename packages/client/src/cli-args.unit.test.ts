import { describe, expect, it } from 'vitest';
import { parseCli, UsageError } from './cli-args.ts';

describe('parseCli', () => {
  it('builds a submit body from the options', () => {
    const cli = parseCli(
      ['submit', 'demo.sleep', '--params', '{"durationMs":5000}', '--user', 'u-1', '--priority', 'high', '--timeout', '60000', '--watch'],
      {},
    );
    expect(cli.command).toEqual({
      cmd: 'submit',
      body: { type: 'demo.sleep', params: { durationMs: 5000 }, user: 'u-1', priority: 'high', timeoutMs: 60000 },
      watch: true,
    });
    expect(cli.url).toBe('http://127.0.0.1:8080');
    expect(cli.apiKey).toBeUndefined();
  });

  it('takes numeric priorities and refuses others', () => {
    expect(parseCli(['submit', 't', '--priority', '9']).command).toMatchObject({ body: { priority: 9 } });
    expect(() => parseCli(['submit', 't', '--priority', '10'])).toThrow(UsageError);
    expect(() => parseCli(['submit', 't', '--priority', 'urgent'])).toThrow(/priority/);
  });

  it('refuses bad JSON, bad timeouts, unknown options and missing arguments', () => {
    expect(() => parseCli(['submit', 't', '--params', '{nope'])).toThrow(/--params is not valid JSON/);
    expect(() => parseCli(['submit', 't', '--timeout', '-5'])).toThrow(/--timeout/);
    expect(() => parseCli(['submit', 't', '--bogus'])).toThrow(UsageError);
    expect(() => parseCli(['submit'])).toThrow(/one task type/);
    expect(() => parseCli(['status'])).toThrow(/one task id/);
    expect(() => parseCli(['frobnicate'])).toThrow(/unknown command/);
  });

  it('reads ERRAND_URL and ERRAND_API_KEY, and flags win over them', () => {
    const env = { ERRAND_URL: 'http://errand:9000', ERRAND_API_KEY: 'k1' };
    expect(parseCli(['status', 'T1'], env)).toMatchObject({ url: 'http://errand:9000', apiKey: 'k1', command: { cmd: 'status', id: 'T1' } });
    expect(parseCli(['status', 'T1', '--url', 'http://x', '--api-key', 'k2'], env)).toMatchObject({ url: 'http://x', apiKey: 'k2' });
  });

  it('takes the common options before or after the command', () => {
    expect(parseCli(['--json', 'list', '--url', 'http://x'])).toMatchObject({ json: true, url: 'http://x', command: { cmd: 'list' } });
    expect(parseCli(['top', '--json'])).toMatchObject({ json: true, command: { cmd: 'top' } });
    expect(() => parseCli(['top', 'extra'])).toThrow(UsageError);
  });

  it('parses list filters and checks the state', () => {
    expect(parseCli(['list', '--state', 'queued', '--limit', '5']).command).toEqual({ cmd: 'list', query: { state: 'queued', limit: 5 } });
    expect(() => parseCli(['list', '--state', 'sleeping'])).toThrow(/--state must be one of/);
  });

  it('parses cancel with a reason, and help', () => {
    expect(parseCli(['cancel', 'T1', '--reason', 'not needed', '--discard-partial']).command).toEqual({
      cmd: 'cancel',
      id: 'T1',
      reason: 'not needed',
      discardPartial: true,
    });
    expect(parseCli([]).command).toEqual({ cmd: 'help' });
    expect(parseCli(['types', '-h']).command).toEqual({ cmd: 'help' });
  });
});
