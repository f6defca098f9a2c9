import ipaddr from 'ipaddr.js';

/**
 * SSRF guard for webhook and chat targets: only http(s), and no loopback,
 * private, link-local, metadata or otherwise non-public address unless an
 * operator allow-list (ERRAND_WEBHOOK_ALLOW: hosts or CIDRs) names it.
 */
export class UrlRefused extends Error {
  override name = 'UrlRefused';
}

export interface AllowList {
  hosts: Set<string>;
  cidrs: [ipaddr.IPv4 | ipaddr.IPv6, number][];
}

/** Lower case, no IPv6 brackets, no trailing dot (`localhost.` is `localhost`). */
export function normaliseHost(hostname: string): string {
  return hostname.toLowerCase().replace(/^\[|\]$/g, '').replace(/\.+$/, '');
}

export function parseAllowList(entries: string[]): AllowList {
  const hosts = new Set<string>();
  const cidrs: AllowList['cidrs'] = [];
  for (const raw of entries) {
    const e = raw.trim().toLowerCase();
    if (!e) continue;
    if (e.includes('/')) cidrs.push(ipaddr.parseCIDR(e));
    else if (ipaddr.isValid(e)) cidrs.push([ipaddr.parse(e), ipaddr.parse(e).kind() === 'ipv4' ? 32 : 128]);
    else hosts.add(normaliseHost(e));
  }
  return { hosts, cidrs };
}

function normalise(addr: ipaddr.IPv4 | ipaddr.IPv6): ipaddr.IPv4 | ipaddr.IPv6 {
  return addr.kind() === 'ipv6' && (addr as ipaddr.IPv6).isIPv4MappedAddress() ? (addr as ipaddr.IPv6).toIPv4Address() : addr;
}

/** True when an IP address is public unicast (what a webhook may reach without the allow-list). */
export function isPublicAddress(ip: string): boolean {
  if (!ipaddr.isValid(ip)) return false;
  const addr = normalise(ipaddr.parse(ip));
  return addr.range() === 'unicast';
}

export function addressAllowed(ip: string, allow: AllowList): boolean {
  if (!ipaddr.isValid(ip)) return false;
  const addr = normalise(ipaddr.parse(ip));
  if (addr.range() === 'unicast') return true;
  return allow.cidrs.some(([net, bits]) => net.kind() === addr.kind() && addr.match(net, bits));
}

/**
 * The submit-time check: the URL parses, is http(s), has no credentials, and
 * its host is not plainly internal (an IP literal outside public unicast,
 * `localhost`, `*.localhost`, `*.internal`, `*.local`, or a bare name with no dot),
 * unless allowed. Hostnames are checked again against DNS at connect time.
 */
export function checkTargetUrl(raw: string, allow: AllowList): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UrlRefused(`"${raw.slice(0, 100)}" is not a valid URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UrlRefused(`only http and https URLs are allowed, not ${url.protocol}`);
  }
  if (url.username || url.password) throw new UrlRefused('URLs with credentials are not allowed');
  const host = normaliseHost(url.hostname);
  if (allow.hosts.has(host)) return url;
  if (ipaddr.isValid(host)) {
    if (!addressAllowed(host, allow)) throw new UrlRefused(`${host} is an internal address`);
    return url;
  }
  if (
    host === 'localhost' ||
    host.endsWith('.localhost') ||
    host.endsWith('.internal') ||
    host.endsWith('.local') ||
    !host.includes('.') ||
    host === 'metadata.google.internal'
  ) {
    throw new UrlRefused(`${host} is an internal host name`);
  }
  return url;
}

/**
 * A `lookup` for http(s).request that refuses, at connect time, every
 * resolved address that is not allowed (DNS rebinding cannot slip through).
 */
export function guardedLookup(allow: AllowList, host: string) {
  return async (hostname: string): Promise<{ address: string; family: number }> => {
    const { lookup } = await import('node:dns/promises');
    const all = await lookup(hostname, { all: true });
    if (all.length === 0) throw new UrlRefused(`${hostname} has no address`);
    if (allow.hosts.has(normaliseHost(host))) return all[0]!;
    const ok = all.filter((a) => addressAllowed(a.address, allow));
    if (ok.length === 0 || ok.length !== all.length) {
      throw new UrlRefused(`${hostname} resolves to an internal address (${all.map((a) => a.address).join(', ')})`);
    }
    return ok[0]!;
  };
}

export type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | { address: string; family: number }[],
  family?: number,
) => void;

/**
 * `guardedLookup` in the shape `http.request({lookup})` and `net.connect`
 * expect (callback, `all` or not). Use it for every outgoing webhook or chat
 * request; `host` is the URL's host name (for the host allow-list).
 */
export function connectLookup(allow: AllowList, host: string) {
  const guarded = guardedLookup(allow, host);
  return (hostname: string, options: { all?: boolean } | number | undefined, callback: LookupCallback): void => {
    const all = typeof options === 'object' && options !== null && options.all === true;
    guarded(hostname).then(
      (a) => (all ? callback(null, [a]) : callback(null, a.address, a.family)),
      (err: Error) => callback(Object.assign(err, { code: err instanceof UrlRefused ? 'EREFUSED_BY_GUARD' : (err as NodeJS.ErrnoException).code }), '', 0),
    );
  };
}
