/**
 * A browser in a few lines, for the OAuth2 integration tests: a cookie jar (host + path scoped,
 * ports ignored, as browsers do) and a redirect loop with `redirect: 'manual'` that signs in on
 * the test IdP's form and stops at the moment the IdP sends the browser back to pika.
 */
interface StoredCookie {
  readonly host: string;
  readonly path: string;
  readonly name: string;
  readonly value: string;
}

export class CookieJar {
  #cookies: StoredCookie[] = [];

  /** Takes the Set-Cookie headers of a response to `url`. */
  store(url: URL, setCookies: readonly string[]): void {
    for (const line of setCookies) {
      const [pair = '', ...attributes] = line.split(';').map((part) => part.trim());
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      const attr = (key: string) => attributes.find((a) => a.toLowerCase().startsWith(`${key}=`))?.slice(key.length + 1);
      const path = attr('path') ?? '/';
      const expired = attr('max-age') === '0' || (attr('expires') !== undefined && Date.parse(attr('expires') ?? '') <= Date.now());
      this.#cookies = this.#cookies.filter((c) => !(c.host === url.hostname && c.path === path && c.name === name));
      if (!expired) this.#cookies.push({ host: url.hostname, path, name, value });
    }
  }

  /** The Cookie header a browser would send to `url`. */
  header(url: URL): string {
    return this.#cookies
      .filter((c) => c.host === url.hostname && (url.pathname === c.path || url.pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`)))
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
  }

  get(name: string): string | undefined {
    return this.#cookies.find((c) => c.name === name)?.value;
  }

  set(url: URL, name: string, value: string, path = '/'): void {
    this.store(url, [`${name}=${value}; Path=${path}`]);
  }
}

export interface Credentials {
  readonly login: string;
  readonly password: string;
}

/** GET (or a form POST) with the jar's cookies, storing what comes back; never follows redirects. */
export async function browse(url: URL, jar: CookieJar, init: { method?: string; form?: URLSearchParams; headers?: Record<string, string> } = {}): Promise<Response> {
  const headers: Record<string, string> = { ...init.headers };
  const cookie = jar.header(url);
  if (cookie !== '') headers.cookie = cookie;
  if (init.form) headers['content-type'] = 'application/x-www-form-urlencoded';
  const response = await fetch(url, { method: init.method ?? 'GET', headers, redirect: 'manual', ...(init.form ? { body: init.form.toString() } : {}) });
  jar.store(url, response.headers.getSetCookie());
  return response;
}

/**
 * Starts at `startUrl` (pika's `/login/oauth2/<name>`), follows redirects, fills the IdP's form
 * once, and returns the callback URL the IdP redirected to — not yet requested, so a test can
 * replay, tamper with or hand it to another browser.
 */
export async function runToCallback(startUrl: string, account: Credentials, jar: CookieJar): Promise<URL> {
  let url = new URL(startUrl);
  let form: URLSearchParams | undefined;
  let submitted = false;
  for (let step = 0; step < 20; step++) {
    if (url.pathname.includes('/login/callback/')) return url;
    const response = await browse(url, jar, form ? { method: 'POST', form } : {});
    form = undefined;
    const location = response.headers.get('location');
    if (response.status >= 300 && response.status < 400 && location !== null) {
      url = new URL(location, url);
      continue;
    }
    const html = await response.text();
    const action = /<form method="post" action="([^"]+)"/.exec(html)?.[1];
    if (response.status === 200 && action !== undefined && !submitted) {
      url = new URL(action, url);
      form = new URLSearchParams({ login: account.login, password: account.password });
      submitted = true;
      continue;
    }
    throw new Error(`the sign-in stopped at ${url.href} with HTTP ${response.status}: ${html.slice(0, 300)}`);
  }
  throw new Error('the sign-in did not come back to pika within 20 steps');
}
