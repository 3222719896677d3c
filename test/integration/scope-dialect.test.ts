/**
 * The console shows live examples of what an API-token scope covers (web/src/components/access/
 * scopeMatch.ts); the server decides (src/server/domain/glob.ts). Both sit on one segment matcher
 * (src/shared/segment-match.ts); this table keeps the two wrappers (trimming, variants, `*`/`**`
 * alone) from drifting apart.
 */
import { describe, expect, it } from 'vitest';
import { matchScopePattern } from '../../src/server/domain/glob.ts';
import { matchScope } from '../../web/src/components/access/scopeMatch.ts';

const patterns = ['*', '**', 'app/config', 'app/*', 'app/**', '**/config', 'app/*/db', 'app/config@prod', 'team-*/x', '/app/config/'];
const paths = ['app/config', 'app/config@prod', 'app/config@dev', 'app/x/db', 'app/x/y/db', 'app', 'other/config', 'app/a/b/config', 'team-a/x', 'team-*/x'];

describe('API-token scope dialect: console and server agree', () => {
  it.each(patterns)('pattern %s', (pattern) => {
    for (const path of paths) expect(matchScope(pattern, path), `${pattern} vs ${path}`).toBe(matchScopePattern(pattern, path));
  });

  it('the table exercises both answers', () => {
    const answers = patterns.flatMap((p) => paths.map((x) => matchScopePattern(p, x)));
    expect(answers).toContain(true);
    expect(answers).toContain(false);
  });
});
