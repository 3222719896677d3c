import { describe, expect, it } from 'vitest';
import { lookup, renderTemplate } from './template.ts';

const doc = { db: { host: 'h', port: 5432, tags: ['a', 'b'] }, name: ' Api ', secret: 'czNjcjN0' };

describe('renderTemplate', () => {
  it('inserts values by dot path, non-strings as JSON, the whole document with a lone dot', () => {
    expect(renderTemplate('{{ .db.host }}:{{.db.port}}', doc)).toEqual({ ok: true, text: 'h:5432' });
    expect(renderTemplate('{{ .db.tags }} {{ .db.tags.1 }}', doc)).toEqual({ ok: true, text: '["a","b"] b' });
    expect(renderTemplate('{{ . }}', { a: 1 })).toEqual({ ok: true, text: '{"a":1}' });
    expect(renderTemplate('no actions', doc)).toEqual({ ok: true, text: 'no actions' });
  });

  it('applies pipes in order', () => {
    expect(renderTemplate('{{ .name | trim | upper }}', doc)).toEqual({ ok: true, text: 'API' });
    expect(renderTemplate('{{ .secret | b64dec }}|{{ .db.host | b64enc }}|{{ .db.host | quote }}|{{ .db | json }}', doc)).toEqual({
      ok: true,
      text: 's3cr3t|aA==|"h"|{"host":"h","port":5432,"tags":["a","b"]}',
    });
  });

  it('reports missing paths, unknown functions and unsupported expressions instead of rendering', () => {
    expect(renderTemplate('{{ .db.user }}', doc)).toEqual({ ok: false, error: '.db.user is not in the document' });
    expect(renderTemplate('{{ .name | shout }}', doc)).toMatchObject({ ok: false, error: expect.stringContaining('unknown template function "shout"') });
    expect(renderTemplate('{{ range .db.tags }}', doc)).toMatchObject({ ok: false, error: expect.stringContaining('unsupported template expression') });
  });

  it('never walks into the prototype chain', () => {
    expect(lookup({}, '.constructor')).toBeUndefined();
    expect(lookup({ a: 'x' }, '.a.length')).toBeUndefined();
  });
});
