import { describe, expect, it } from 'vitest';
import { addressAllowed, checkTargetUrl, connectLookup, guardedLookup, parseAllowList, UrlRefused } from './index.ts';

const none = parseAllowList([]);

describe('checkTargetUrl', () => {
  it('refuses internal hosts, also with a trailing dot', () => {
    for (const u of ['http://localhost/x', 'http://localhost./x', 'http://127.0.0.1/', 'http://[::1]/', 'http://10.0.0.1/', 'http://169.254.169.254/', 'http://app.internal/', 'http://x.local./', 'ftp://example.com/', 'http://u:p@example.com/']) {
      expect(() => checkTargetUrl(u, none), u).toThrow(UrlRefused);
    }
    expect(checkTargetUrl('https://example.com/hook', none).host).toBe('example.com');
  });
  it('lets the allow-list open loopback hosts and ranges', () => {
    expect(checkTargetUrl('http://127.0.0.1:9/', parseAllowList(['127.0.0.1'])).port).toBe('9');
    expect(checkTargetUrl('http://localhost./', parseAllowList(['localhost'])).hostname).toBe('localhost.');
    expect(addressAllowed('10.1.2.3', parseAllowList(['10.0.0.0/8']))).toBe(true);
    expect(addressAllowed('::ffff:127.0.0.1', none)).toBe(false);
    expect(addressAllowed('64:ff9b::7f00:1', none)).toBe(false);
  });
});

describe('guardedLookup (connect time)', () => {
  it('refuses a host name that resolves to loopback', async () => {
    await expect(guardedLookup(none, 'localhost')('localhost')).rejects.toBeInstanceOf(UrlRefused);
  });
  it('allows it when the allow-list names the address or the host', async () => {
    const byIp = await guardedLookup(parseAllowList(['127.0.0.1', '::1']), 'localhost')('localhost');
    expect(['127.0.0.1', '::1']).toContain(byIp.address);
    const byHost = await guardedLookup(parseAllowList(['localhost']), 'localhost')('localhost');
    expect(byHost.address).toBeTruthy();
  });
  it('connectLookup answers in the callback shape net.connect expects', async () => {
    const err = await new Promise((resolve) => connectLookup(none, 'localhost')('localhost', { all: true }, (e) => resolve(e)));
    expect((err as NodeJS.ErrnoException).code).toBe('EREFUSED_BY_GUARD');
    const addrs = await new Promise((resolve) =>
      connectLookup(parseAllowList(['localhost']), 'localhost')('localhost', { all: true }, (_e, a) => resolve(a)),
    );
    expect(Array.isArray(addrs)).toBe(true);
  });
});
