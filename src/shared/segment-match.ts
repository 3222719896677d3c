/**
 * Whether path-pattern segments match all of a path's segments: `*` is exactly one segment, `**`
 * any number (also none), every other segment is literal. The API-token scope dialect (upstream
 * pika's rule): the server decides with it (src/server/domain/glob.ts) and the console shows
 * live examples with it, so both must agree to the letter.
 */
export function matchSegments(pattern: readonly string[], path: readonly string[]): boolean {
  // reachable[j]: the pattern prefix handled so far can consume exactly path[0..j). A table
  // instead of backtracking keeps `**/**/**/…` patterns linear-ish rather than exponential.
  let reachable = path.map(() => false).concat(false);
  reachable[0] = true;
  for (const segment of pattern) {
    const next = reachable.map(() => false);
    for (let j = 0; j <= path.length; j++) {
      if (!reachable[j]) continue;
      if (segment === '**') {
        for (let k = j; k <= path.length; k++) next[k] = true;
        break;
      }
      if (j < path.length && (segment === '*' || segment === path[j])) next[j + 1] = true;
    }
    reachable = next;
  }
  return reachable[path.length] === true;
}
