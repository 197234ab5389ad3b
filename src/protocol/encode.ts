/** RFC 3986 percent-encoding as the Alibaba Cloud signers use it: `!'()*` encoded, `~` kept. */
export function percentEncode(s: string): string {
  return encodeURIComponent(s).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}
