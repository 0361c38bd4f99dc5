/** Which issuer and key URLs portcullis will fetch from, shared by config checks and discovery. */

/**
 * Absolute https, or http towards a loopback host (local IdPs in development and tests), or
 * http towards any host with `allowHttp` (an issuer's `allow_http`: in-cluster IdPs).
 */
export function isAllowedKeyUrl(value: string, allowHttp = false): boolean {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  if (url.protocol === 'https:') return true;
  return url.protocol === 'http:' && (allowHttp || isLoopbackHost(url.hostname));
}

function isLoopbackHost(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127(\.\d{1,3}){3}$/.test(hostname);
}
