/** RFC 3986 percent-encoding as the Alibaba Cloud signers use it: `!'()*` encoded, `~` kept. */
const UNRESERVED = /^[A-Za-z0-9_.~-]*$/;
const SUB_DELIMS = /[!'()*]/g;
const hex = (c: string) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`;

export function percentEncode(s: string): string {
  if (UNRESERVED.test(s)) return s; // most keys and values: nothing to encode
  const e = encodeURIComponent(s);
  SUB_DELIMS.lastIndex = 0;
  return SUB_DELIMS.test(e) ? e.replace(SUB_DELIMS, hex) : e;
}
