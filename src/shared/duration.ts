/**
 * Go-style durations as the seeds write them (`24h`, `15m`, `90s`, `1h30m`, `500ms`) plus `d` for
 * days. Returns milliseconds; throws on anything else so config errors are caught at boot.
 */
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy;

export function parseDuration(raw: string): number {
  const text = raw.trim();
  if (text === '') throw new Error('empty duration');
  if (/^\d+$/.test(text)) throw new Error(`duration "${text}" needs a unit (ms, s, m, h, d)`);
  let total = 0;
  PART.lastIndex = 0;
  let consumed = 0;
  for (let match = PART.exec(text); match; match = PART.exec(text)) {
    total += Number(match[1]) * (UNIT_MS[match[2] ?? ''] ?? Number.NaN);
    consumed = PART.lastIndex;
  }
  if (consumed !== text.length || !Number.isFinite(total)) throw new Error(`invalid duration "${text}" (examples: 24h, 15m, 1h30m)`);
  return total;
}

export function isDuration(raw: string): boolean {
  try {
    parseDuration(raw);
    return true;
  } catch {
    return false;
  }
}
