/**
 * Reading header values as Node hands them over (a string, or an array for a repeated header)
 * and the peer address as the socket reports it.
 */

/** The first occurrence of a repeated header. */
export function firstHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** All occurrences as one comma-separated list, as RFC 9110 §5.3 allows a recipient to join them. */
export function joinedHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}

/** The first element of a comma-separated list header, trimmed; undefined when empty. */
export function firstListItem(value: string | string[] | undefined): string | undefined {
  const header = firstHeader(value);
  if (header === undefined) return undefined;
  const comma = header.indexOf(',');
  const first = (comma === -1 ? header : header.slice(0, comma)).trim();
  return first === '' ? undefined : first;
}

/** An IPv4 peer on a dual-stack socket (`::ffff:10.0.0.1`) as its plain IPv4 form. */
export function unmapIPv4(address: string): string {
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}
