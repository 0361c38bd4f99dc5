/**
 * Who may call the forward-auth endpoint (`forward_auth.trusted_sources`), compiled once per
 * config: addresses and CIDRs in a BlockList.
 */
import { BlockList, isIP } from 'node:net';

/** Matches a caller address against `forward_auth.trusted_sources`; empty means everyone. */
export function createSourceFilter(sources: readonly string[]): (ip: string) => boolean {
  if (sources.length === 0) return () => true;
  const list = new BlockList();
  for (const source of sources) {
    const [address = '', bits] = source.split('/');
    const type = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(address, type);
    else list.addSubnet(address, Number(bits), type);
  }
  return (ip) => {
    const type = isIP(ip);
    return type !== 0 && list.check(ip, type === 6 ? 'ipv6' : 'ipv4');
  };
}
