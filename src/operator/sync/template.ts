/**
 * `template.data` of a PikaConfig: small text templates over the merged document, so a target key
 * can be assembled from several values (`postgres://{{ .db.user }}@{{ .db.host }}/app`).
 *
 * Deliberately tiny and total (no loops, no code): `{{ .a.b }}` inserts a value by dot path
 * (array indexes are numbers: `.hosts.0`), `{{ . }}` the whole document; a value may go through
 * pipes: `json`, `b64enc`, `b64dec`, `quote`, `upper`, `lower`, `trim`. Strings are inserted as
 * they are, other values as JSON. A path that does not exist is reported, never rendered as
 * empty or as Go's `<no value>`: a half-rendered secret is worse than a missing one.
 */
export type TemplateResult = { readonly ok: true; readonly text: string } | { readonly ok: false; readonly error: string };

const ACTION = /\{\{-?\s*(.*?)\s*-?\}\}/g;
const PIPES: Record<string, (value: unknown) => unknown> = {
  json: (v) => JSON.stringify(v),
  b64enc: (v) => Buffer.from(text(v), 'utf8').toString('base64'),
  b64dec: (v) => Buffer.from(text(v), 'base64').toString('utf8'),
  quote: (v) => JSON.stringify(text(v)),
  upper: (v) => text(v).toUpperCase(),
  lower: (v) => text(v).toLowerCase(),
  trim: (v) => text(v).trim(),
};

function text(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** Resolves `.a.b.0` in a document; undefined when any step is missing. */
export function lookup(doc: unknown, path: string): unknown {
  if (path === '.') return doc;
  let current = doc;
  for (const step of path.slice(1).split('.')) {
    if (current === null || typeof current !== 'object' || !Object.hasOwn(current, step)) return undefined;
    current = (current as Record<string, unknown>)[step];
  }
  return current;
}

export function renderTemplate(template: string, doc: unknown): TemplateResult {
  let error: string | undefined;
  const out = template.replace(ACTION, (_all, body: string) => {
    if (error !== undefined) return '';
    const [head = '', ...pipes] = body.split('|').map((s) => s.trim());
    if (!/^\.([A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*)?$/.test(head)) {
      error = `unsupported template expression "{{ ${body} }}" (use a dot path such as .db.host)`;
      return '';
    }
    let value = lookup(doc, head);
    if (value === undefined) {
      error = `${head} is not in the document`;
      return '';
    }
    for (const name of pipes) {
      const fn = PIPES[name];
      if (!fn) {
        error = `unknown template function "${name}" (known: ${Object.keys(PIPES).join(', ')})`;
        return '';
      }
      value = fn(value);
    }
    return text(value);
  });
  return error === undefined ? { ok: true, text: out } : { ok: false, error };
}
