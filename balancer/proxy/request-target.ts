/**
 * A request target in absolute-form (`http://a.example/x?q`, RFC 9112 section 3.2.2) taken apart: the
 * authority, which becomes the Host sent upstream, and the origin-form path (`/x?q`) the worker is
 * sent instead. Only node:http hands these over (the listener serves origin-form only), and they are
 * rare, so this is off the usual request's path: the caller tests the first character first.
 */
export interface AbsoluteTarget {
  readonly authority: string;
  readonly path: string;
}

/** host [":" port]: an IP literal or a reg-name (RFC 3986 section 3.2.2), never empty, never with userinfo. */
const AUTHORITY = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~!$&'()*+,;=%]+)(?::\d{0,5})?$/;

/**
 * The authority and origin-form path of an `http://` or `https://` target (scheme in any case), or
 * undefined for any other absolute-form: another scheme, an empty host (RFC 9110 section 4.2.1 says
 * to reject it), userinfo (section 4.2.4 says to treat it as an error), a malformed port.
 */
export function parseAbsoluteTarget(url: string): AbsoluteTarget | undefined {
  const sep = url.indexOf('://');
  if (sep !== 4 && sep !== 5) return undefined;
  const scheme = url.slice(0, sep).toLowerCase();
  if (scheme !== 'http' && scheme !== 'https') return undefined;
  let end = sep + 3;
  while (end < url.length) {
    const c = url.charCodeAt(end);
    if (c === 0x2f /* / */ || c === 0x3f /* ? */ || c === 0x23 /* # */) break;
    end++;
  }
  const authority = url.slice(sep + 3, end);
  if (!AUTHORITY.test(authority)) return undefined;
  // An empty path is sent as "/" (RFC 9112 section 3.2.1).
  const path = end === url.length ? '/' : url.charCodeAt(end) === 0x2f ? url.slice(end) : `/${url.slice(end)}`;
  return { authority, path };
}

/** Whether a target is in origin-form (`/...`) or asterisk-form (`*`): the ones forwarded as they are. */
export function isOriginOrAsterisk(url: string): boolean {
  const c = url.charCodeAt(0);
  return c === 0x2f || (c === 0x2a && url.length === 1);
}
