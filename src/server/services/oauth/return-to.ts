/**
 * Where the browser goes after an OAuth2 sign-in (`?return_to=`). Only a same-site relative path
 * under the base path is kept: anything else — `//evil.example` (protocol-relative), absolute
 * URLs, backslashes (browsers read `/\evil` as `//evil`), control characters, or a path that
 * `..` walks out of the base path — becomes the base path's root, so sign-in is never an open
 * redirect.
 */
const PROBE_ORIGIN = 'http://pika.invalid';
const MAX_LENGTH = 2048;

export function safeReturnTo(raw: string | undefined, basePath: string): string {
  const home = `${basePath}/`;
  if (raw === undefined || raw === '' || raw.length > MAX_LENGTH) return home;
  if (!raw.startsWith('/') || raw.startsWith('//') || raw.includes('\\') || hasControl(raw)) return home;
  let url: URL;
  try {
    url = new URL(raw, PROBE_ORIGIN);
  } catch {
    return home;
  }
  if (url.origin !== PROBE_ORIGIN) return home;
  // Checked after URL normalisation, so `/pika/../elsewhere` cannot leave the base path.
  const path = url.pathname;
  if (basePath !== '' && path !== basePath && !path.startsWith(`${basePath}/`)) return home;
  return path + url.search;
}

function hasControl(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}
