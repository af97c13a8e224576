/** `https://Example.com:443/` → `https://example.com`; values that are not URLs are compared as written. */
export function normalizeOrigin(value: string): string {
  const v = value.trim();
  try {
    const u = new URL(v);
    if (u.origin !== 'null') return u.origin;
  } catch {
    // not a URL
  }
  return v.toLowerCase().replace(/\/+$/, '');
}
