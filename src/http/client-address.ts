/**
 * Who the client is when proxies stand in front (docs/configuration.md `trusted_proxies`).
 *
 * Enforces:
 * - only a TCP peer inside `trusted_proxies` (or any peer with the v1 `trust_forwarded_headers`,
 *   which means exactly one trusted hop) may set `X-Forwarded-For`, `-Proto` and `-Host`;
 * - the client is found by walking `X-Forwarded-For` (every copy of the header, in order) from
 *   the right: each trusted proxy appended the address it saw, so the first address that is not
 *   a trusted proxy is the client; everything to its left was written by the client and is
 *   ignored. With one trusted hop (and no `trusted_proxies`) the right-most entry is the
 *   client; when every entry is a trusted proxy, the left-most one is;
 * - an entry that is not an IP address ends the walk at the hop that wrote it: the client is
 *   the address of that trusted hop (never client-written text);
 * - without a trusted peer the client is the TCP peer, whatever the headers say.
 * Addresses are compared and reported without an IPv4-mapped `::ffff:` prefix.
 */
import { BlockList, isIP } from 'node:net';

export interface ForwardTrust {
  readonly trustForwardedHeaders: boolean;
  readonly trustedProxies: readonly string[];
}

export interface ClientAddress {
  /** The client as far as trusted proxies vouch for it. */
  readonly clientIp: string;
  /** The TCP peer. */
  readonly peerIp: string;
  /** The peer may set X-Forwarded-*. */
  readonly trustedPeer: boolean;
}

type Check = (ip: string) => boolean;

const compiled = new WeakMap<readonly string[], Check>();

/** Answers remembered per address string: peers are few; a full memo starts over (bounded). */
const MEMO_LIMIT = 1024;

function remembered<T>(compute: (text: string) => T): (text: string) => T {
  const memo = new Map<string, T>();
  return (text) => {
    let value = memo.get(text);
    if (value === undefined) {
      value = compute(text);
      if (memo.size >= MEMO_LIMIT) memo.clear();
      memo.set(text, value);
    }
    return value;
  };
}

/** The socket's address as reported (its plain form, or as given when that is not an IP). */
const peerAddress = remembered((socketIp) => plainIp(socketIp) || socketIp);

/** `a.b.c.d` or IPv6 without `::ffff:`; `[v6]:port` and `v4:port` lose the port; '' if not an IP. */
export function plainIp(text: string): string {
  let ip = text.trim();
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(ip);
  if (bracketed) ip = bracketed[1]!;
  else if (/^[\d.]+:\d+$/.test(ip)) ip = ip.slice(0, ip.indexOf(':'));
  if (ip.toLowerCase().startsWith('::ffff:') && isIP(ip.slice(7)) === 4) ip = ip.slice(7);
  return isIP(ip) === 0 ? '' : ip;
}

/** A matcher for IPs and CIDRs (both families); empty list matches nothing. */
export function addressMatcher(entries: readonly string[]): Check {
  const list = new BlockList();
  for (const entry of entries) {
    const [address = '', bits] = entry.split('/');
    const type = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(address, type);
    else list.addSubnet(address, Number(bits), type);
  }
  if (entries.length === 0) return () => false;
  // BlockList#check builds a SocketAddress per call; the answer for an address never changes.
  return remembered((ip) => {
    const family = isIP(ip);
    return family !== 0 && list.check(ip, family === 6 ? 'ipv6' : 'ipv4');
  });
}

function trustedCheck(proxies: readonly string[]): Check {
  let check = compiled.get(proxies);
  if (check === undefined) {
    check = addressMatcher(proxies);
    compiled.set(proxies, check);
  }
  return check;
}

function forwardedEntries(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value.join(',') : value).split(',').map((entry) => entry.trim());
}

export function clientAddress(socketIp: string, forwardedFor: string | string[] | undefined, trust: ForwardTrust): ClientAddress {
  const peerIp = peerAddress(socketIp);
  const isTrusted = trustedCheck(trust.trustedProxies);
  const trustedPeer = trust.trustForwardedHeaders || isTrusted(peerIp);
  if (!trustedPeer) return { clientIp: peerIp, peerIp, trustedPeer };
  const entries = forwardedEntries(forwardedFor);
  let client = peerIp;
  for (let i = entries.length - 1; i >= 0; i--) {
    const ip = plainIp(entries[i]!);
    if (ip === '') break;
    client = ip;
    if (!isTrusted(ip)) break;
  }
  return { clientIp: client, peerIp, trustedPeer };
}
