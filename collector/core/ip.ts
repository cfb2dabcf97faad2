/**
 * IP address literals: parsing IPv4 and IPv6 (shared by the webhook target check and the rate limiters), and the key
 * an address is limited under (an IPv6 address by its /64, the block one subscriber holds).
 */

/** Parses dotted-quad IPv4 into 4 bytes, or undefined. (URL hostnames are already normalized by WHATWG URL.) */
export const parseIpv4 = (s: string): number[] | undefined => {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  const out: number[] = [];
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    out.push(n);
  }
  return out;
};

/** Parses IPv6 (with `::` and an optional trailing dotted quad) into 8 16-bit groups, or undefined. */
export const parseIpv6 = (input: string): number[] | undefined => {
  let s = input.startsWith('[') && input.endsWith(']') ? input.slice(1, -1) : input;
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  if (!s.includes(':')) return undefined;
  const lastColon = s.lastIndexOf(':');
  const last = s.slice(lastColon + 1);
  if (last.includes('.')) {
    // A trailing dotted quad (::ffff:1.2.3.4) becomes two hex groups.
    const v4 = parseIpv4(last);
    if (!v4) return undefined;
    s = `${s.slice(0, lastColon + 1)}${((v4[0]! << 8) | v4[1]!).toString(16)}:${((v4[2]! << 8) | v4[3]!).toString(16)}`;
  }
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const group = (h: string) => (h === '' ? [] : h.split(':'));
  const head = group(halves[0] as string);
  const rest = halves.length === 2 ? group(halves[1] as string) : [];
  const parse = (g: string) => (/^[0-9a-f]{1,4}$/i.test(g) ? parseInt(g, 16) : NaN);
  const a = head.map(parse);
  const b = rest.map(parse);
  if ([...a, ...b].some(Number.isNaN)) return undefined;
  const fill = 8 - a.length - b.length;
  if (halves.length === 2 ? fill < 1 : fill !== 0) return undefined;
  return [...a, ...Array<number>(halves.length === 2 ? fill : 0).fill(0), ...b];
};

/** True when `s` is an IPv4 or IPv6 literal. */
export const isIp = (s: string): boolean => parseIpv4(s) !== undefined || parseIpv6(s) !== undefined;

/**
 * The key a client address is rate-limited and budgeted under: an IPv4 address as is (an IPv4-mapped IPv6 address as
 * its IPv4 address), an IPv6 address by its /64 (one subscriber's block: its 2^64 addresses are one client), anything
 * else as given.
 *
 * @example
 * addressKey('2001:db8:1:2:aaaa::1') // '2001:db8:1:2::/64'
 * addressKey('::ffff:203.0.113.7') // '203.0.113.7'
 */
export const addressKey = (ip: string): string => {
  if (parseIpv4(ip)) return ip;
  const g = parseIpv6(ip);
  if (!g) return ip;
  if (g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff) {
    return [g[6]! >> 8, g[6]! & 255, g[7]! >> 8, g[7]! & 255].join('.');
  }
  return `${g
    .slice(0, 4)
    .map((x) => x.toString(16))
    .join(':')}::/64`;
};

/** True for a loopback address: 127.0.0.0/8, ::1, and their IPv4-mapped forms. */
export const isLoopback = (ip: string): boolean => {
  const key = addressKey(ip);
  const v4 = parseIpv4(key);
  if (v4) return v4[0] === 127;
  const g = parseIpv6(ip);
  return g !== undefined && g.slice(0, 7).every((x) => x === 0) && g[7] === 1;
};
