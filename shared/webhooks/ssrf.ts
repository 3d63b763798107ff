// The SSRF guard: a webhook target may only be a public address. Checked when a subscription is made or its
// URL changes (a 422 naming `url`), and again at every delivery, at connect time, on the address actually
// dialled (DNS can change between the two, and between a check and a connect).
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP } from 'node:net';

const blocked = new BlockList();
const loopbackV4 = new BlockList();
loopbackV4.addSubnet('127.0.0.0', 8, 'ipv4');
// IPv4: "this network", private, carrier-grade NAT, loopback, link-local (169.254.169.254 is the metadata
// endpoint of AWS, GCP and Azure), IETF protocol assignments, documentation, benchmarking, multicast, reserved.
for (const [net, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24], ['203.0.113.0', 24],
  ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) blocked.addSubnet(net, prefix, 'ipv4');
// IPv6: unspecified, unique local (fd00:ec2::254 is the AWS metadata endpoint over IPv6), link-local,
// site-local, multicast, documentation, discard.
for (const [net, prefix] of [
  ['::', 128], ['fc00::', 7], ['fe80::', 10], ['fec0::', 10], ['ff00::', 8], ['2001:db8::', 32], ['100::', 64],
] as const) blocked.addSubnet(net, prefix, 'ipv6');

export type GuardOptions = { allowLoopback?: boolean };

/** Why an IP address may not be a webhook target, or undefined when it may. */
export function refusalOf(address: string, options: GuardOptions = {}): string | undefined {
  const family = isIP(address);
  if (family === 0) return `${address} is not an IP address`;
  if (family === 6) {
    const lower = address.toLowerCase();
    // IPv4 written as IPv6 (mapped ::ffff:a.b.c.d, NAT64 64:ff9b::a.b.c.d, or their hex forms) is judged as IPv4.
    const embedded = embeddedIpv4(lower);
    if (embedded) return refusalOf(embedded, options);
    if (lower === '::1' || /^0*:(0*:)*0*1$/.test(lower) || lower === '0:0:0:0:0:0:0:1') return options.allowLoopback ? undefined : `${address} is a loopback address`;
    return blocked.check(address, 'ipv6') ? `${address} is a private, link-local or reserved address` : undefined;
  }
  if (loopbackV4.check(address, 'ipv4')) return options.allowLoopback ? undefined : `${address} is a loopback address`;
  return blocked.check(address, 'ipv4') ? `${address} is a private, link-local or reserved address` : undefined;
}

function embeddedIpv4(v6: string): string | undefined {
  const dotted = /^(?:::ffff:|::ffff:0:|64:ff9b::|::)(\d+\.\d+\.\d+\.\d+)$/.exec(v6);
  if (dotted) return dotted[1];
  const hex = /^(?:::ffff:|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(v6);
  if (hex) {
    const high = parseInt(hex[1]!, 16);
    const low = parseInt(hex[2]!, 16);
    return `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;
  }
  return undefined;
}

/** The host of a URL as DNS or an IP parser wants it (IPv6 literals lose their brackets). */
export const hostOf = (url: URL) => url.hostname.replace(/^\[(.*)\]$/, '$1');

/** Whether a URL may be a webhook target: http(s), and every address its host resolves to is public. */
export async function checkTarget(raw: string, options: GuardOptions = {}): Promise<string | undefined> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'must be an absolute URL';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'must be an http or https URL';
  if (url.username || url.password) return 'must not carry credentials';
  const host = hostOf(url);
  let addresses: LookupAddress[];
  try {
    addresses = isIP(host) ? [{ address: host, family: isIP(host) }] : await new Promise((resolve, reject) => dnsLookup(host, { all: true, verbatim: true }, (error, found) => (error ? reject(error) : resolve(found))));
  } catch {
    return `${host} does not resolve`;
  }
  for (const { address } of addresses) {
    const refusal = refusalOf(address, options);
    if (refusal) return `is refused: ${host} resolves to ${refusal.replace(`${address} is`, `${address}, which is`)}`;
  }
  return undefined;
}

/**
 * A `lookup` for node:http(s) that refuses to connect to any address the guard refuses: the check is on the
 * address the socket dials, so DNS that changes after the subscription's check cannot slip a private one in.
 */
export function guardedLookup(options: GuardOptions = {}) {
  return (hostname: string, lookupOptions: object, callback: (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void) => {
    dnsLookup(hostname, { ...lookupOptions, all: true, verbatim: true }, (error, addresses) => {
      if (error) return callback(error, '');
      const refusal = addresses.map(({ address }) => refusalOf(address, options)).find(Boolean);
      if (refusal) return callback(Object.assign(new Error(`refused: ${hostname} resolves to ${refusal}`), { code: 'ESSRF' }), '');
      if ((lookupOptions as { all?: boolean }).all) return callback(null, addresses);
      callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  };
}
