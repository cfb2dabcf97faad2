/**
 * Webhook target safety (SSRF): only http(s) URLs, and no private, loopback, link-local, CGNAT, multicast,
 * reserved or unspecified addresses, IPv4 and IPv6 (IPv4-mapped, NAT64 and 6to4 addresses are checked by their
 * embedded IPv4 address; IPv4-translated `::ffff:0:0/96` and Teredo `2001::/32` are refused whole), unless the site allows private targets for development (`allowPrivateWebhooks`).
 *
 * Hostnames are checked after resolution with an injected resolver (Node: `dns.lookup(host, { all: true })`), every
 * resolved address must be public. Without a resolver (Workers) only literal addresses and `localhost` are checked;
 * Cloudflare's fetch cannot reach private networks.
 */
import { InputError } from '../errors';
import { parseIpv4 as ipv4, parseIpv6 as ipv6 } from '../ip';

/** Resolves a hostname to its IP addresses (all of them). */
export type Resolve = (hostname: string) => Promise<string[]>;

/** A refused webhook target: a 400 naming `action.url` (final for a delivery: retrying cannot help). */
const unsafe = (message: string) => new InputError(400, message, 'action.url');

const inV4 = (b: number[], net: [number, number, number, number], bits: number): boolean => {
  const x = ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
  const n = ((net[0] << 24) | (net[1] << 16) | (net[2] << 8) | net[3]) >>> 0;
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return (x & mask) === (n & mask);
};

/** IPv4 ranges that are not the public internet (RFC 6890 special-purpose registry, minus the globally reachable). */
const V4_BLOCKED: Array<[[number, number, number, number], number, string]> = [
  [[0, 0, 0, 0], 8, 'unspecified ("this network")'],
  [[10, 0, 0, 0], 8, 'private'],
  [[100, 64, 0, 0], 10, 'carrier-grade NAT'],
  [[127, 0, 0, 0], 8, 'loopback'],
  [[169, 254, 0, 0], 16, 'link-local'],
  [[172, 16, 0, 0], 12, 'private'],
  [[192, 0, 0, 0], 24, 'IETF protocol assignments'],
  [[192, 0, 2, 0], 24, 'documentation'],
  [[192, 88, 99, 0], 24, '6to4 relay'],
  [[192, 168, 0, 0], 16, 'private'],
  [[198, 18, 0, 0], 15, 'benchmarking'],
  [[198, 51, 100, 0], 24, 'documentation'],
  [[203, 0, 113, 0], 24, 'documentation'],
  [[224, 0, 0, 0], 4, 'multicast'],
  [[240, 0, 0, 0], 4, 'reserved'],
];

const v4Kind = (b: number[]): string | undefined => {
  for (const [net, bits, kind] of V4_BLOCKED) if (inV4(b, net, bits)) return kind;
  return undefined;
};

const embedded = (g: number[], hi: number, lo: number) => [g[hi]! >> 8, g[hi]! & 255, g[lo]! >> 8, g[lo]! & 255];

const v6Kind = (g: number[]): string | undefined => {
  const zeroUpTo = (n: number) => g.slice(0, n).every((x) => x === 0);
  if (g.every((x) => x === 0)) return 'unspecified';
  if (zeroUpTo(7) && g[7] === 1) return 'loopback';
  // ::ffff:a.b.c.d (IPv4-mapped) and ::a.b.c.d (IPv4-compatible, deprecated): the IPv4 address decides.
  if (zeroUpTo(5) && (g[5] === 0xffff || g[5] === 0)) {
    const k = v4Kind(embedded(g, 6, 7));
    return k && `IPv4-mapped ${k}`;
  }
  // ::ffff:0:a.b.c.d (IPv4-translated, SIIT, RFC 2765): translated by a gateway, never a public target itself.
  if (zeroUpTo(4) && g[4] === 0xffff && g[5] === 0) return 'IPv4-translated';
  // 64:ff9b::/96 (NAT64): the embedded IPv4 address decides.
  if (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0)) {
    const k = v4Kind(embedded(g, 6, 7));
    return k && `NAT64 ${k}`;
  }
  if (g[0] === 0x64 && g[1] === 0xff9b && g[2] === 1) return 'NAT64 local-use';
  // 2002::/16 (6to4): the embedded IPv4 address decides.
  if (g[0] === 0x2002) {
    const k = v4Kind(embedded(g, 1, 2));
    return k && `6to4 ${k}`;
  }
  const first = g[0]!;
  if ((first & 0xfe00) === 0xfc00) return 'unique-local (private)';
  if ((first & 0xffc0) === 0xfe80) return 'link-local';
  if ((first & 0xffc0) === 0xfec0) return 'site-local';
  if ((first & 0xff00) === 0xff00) return 'multicast';
  if (first === 0x2001 && g[1] === 0x0db8) return 'documentation';
  // 2001::/32 (Teredo, RFC 4380): tunnels to an IPv4 address hidden in the address; never a webhook target.
  if (first === 0x2001 && g[1] === 0) return 'Teredo';
  if (first === 0x0100 && g.slice(1, 4).every((x) => x === 0)) return 'discard-only';
  return undefined;
};

/**
 * What kind of non-public address `ip` is (`loopback`, `private`, `IPv4-mapped loopback`…), or undefined for a
 * public address. Throws for something that is not an IP address.
 *
 * @example
 * addressKind('127.0.0.1') // 'loopback'
 * addressKind('::ffff:10.0.0.1') // 'IPv4-mapped private'
 * addressKind('93.184.215.14') // undefined
 */
export const addressKind = (ip: string): string | undefined => {
  const v4 = ipv4(ip);
  if (v4) return v4Kind(v4);
  const v6 = ipv6(ip);
  if (v6) return v6Kind(v6);
  throw unsafe(`[cjm] "${ip}" is not an IP address`);
};

/** True when `host` (a URL hostname) is a literal IPv4 or IPv6 address. */
export const isIpLiteral = (host: string): boolean => ipv4(host) !== undefined || ipv6(host) !== undefined;

const isLocalName = (host: string) => host === 'localhost' || host.endsWith('.localhost') || host === 'localhost.';

/**
 * Checks a webhook URL without the network: scheme, credentials, and a literal or `localhost` host. Returns the
 * parsed URL; throws an InputError whose message says what is wrong and how to allow it for development.
 */
export const checkWebhookUrl = (raw: string, allowPrivate: boolean): URL => {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw unsafe(`[cjm] "${raw}" is not a URL; use an absolute http(s) URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw unsafe(`[cjm] webhook URLs must be http or https, not ${url.protocol.slice(0, -1)}`);
  }
  if (url.username || url.password) {
    throw unsafe('[cjm] webhook URLs must not contain credentials; verify the X-Cjm-Signature header instead');
  }
  if (allowPrivate) return url;
  const host = url.hostname;
  const kind = isLocalName(host.toLowerCase()) ? 'loopback' : isIpLiteral(host) ? addressKind(host) : undefined;
  if (kind) throw unsafe(privateMessage(host, kind));
  return url;
};

const privateMessage = (host: string, kind: string) =>
  `[cjm] webhook target ${host} is not a public address (${kind}); only public addresses are allowed ` +
  '(for development, allow private targets with PUT /api/sites/:site/automation {"allowPrivateWebhooks": true})';

/**
 * Checks a URL and, when `resolve` is given, every address its hostname resolves to. Returns the checked
 * addresses (empty for a literal address or without a resolver). Throws an InputError for a refused target
 * (final), a plain Error when the name does not resolve (worth a retry).
 */
export const checkWebhookTarget = async (
  raw: string,
  allowPrivate: boolean,
  resolve?: Resolve,
): Promise<{ url: URL; addresses: string[] }> => {
  const url = checkWebhookUrl(raw, allowPrivate);
  if (allowPrivate || !resolve || isIpLiteral(url.hostname)) return { url, addresses: [] };
  let addresses: string[];
  try {
    addresses = await resolve(url.hostname);
  } catch (e) {
    throw new Error(`[cjm] cannot resolve ${url.hostname}: ${e instanceof Error ? e.message : String(e)}`, {
      cause: e,
    });
  }
  if (addresses.length === 0) throw new Error(`[cjm] ${url.hostname} resolves to no address`);
  for (const a of addresses) {
    const kind = addressKind(a);
    if (kind) throw unsafe(privateMessage(`${url.hostname} (${a})`, kind));
  }
  return { url, addresses };
};
