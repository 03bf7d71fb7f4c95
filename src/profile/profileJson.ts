/**
 * A profile as compact JSON text, and the check that keeps that text valid.
 *
 * A run writes a profile text per part file and one for the run: two megabytes of base64 sketch
 * levels each for 30 columns. JSON.stringify looks at every character of a string for one to
 * escape, 3-4 ms per profile here, on the scoring thread (docs/performance.md, "A profile's
 * JSON"); base64 has no such character, so the levels are left out of the stringify and put
 * back as they are. That holds for every profile in memory: QuantileSketch encodes its own
 * levels, and a profile read from a file is checked (`isBase64`, profileFile.ts).
 *
 * @example
 *   await writeFile(path, profileJson(profile) + '\n');
 */
import { randomUUID } from 'node:crypto';
import type { Profile } from './profile.js';
import type { SketchJson } from './quantileSketch.js';

/** The profile as JSON.stringify(profile) would write it. */
export function profileJson(profile: Profile): string {
  const sketches = new Set(sketchesOf(profile));
  const levels: string[] = [];
  // A marker no profile holds (a UUID per call); if one did, the count below tells, and the text is made the slow way.
  const marker = `sketch-level-${randomUUID()}`;
  const text = JSON.stringify(profile, function (this: unknown, key: string, value: unknown) {
    if (key !== 'levels' || !sketches.has(this as SketchJson)) return value;
    levels.push(...(value as string[]));
    return (value as string[]).map(() => marker);
  });
  const pieces = text.split(`"${marker}"`);
  if (pieces.length !== levels.length + 1) return JSON.stringify(profile);
  const out: string[] = [pieces[0]!];
  for (let i = 0; i < levels.length; i++) out.push('"', levels[i]!, '"', pieces[i + 1]!);
  return out.join('');
}

/** The numeric columns' sketches: the only place a profile holds sketch levels. */
export function sketchesOf(profile: Profile): SketchJson[] {
  return profile.columns.flatMap((c) => (c.numeric?.sketch ? [c.numeric.sketch] : []));
}

/**
 * True when `text` is base64 with its padding (characters A-Z a-z 0-9 + / and, as Node decodes
 * them too, - _; then at most two `=`; a multiple of 4 long): none needs escaping in JSON.
 * Decoding skips any other character, so the bytes come up short. A quarter of the cost of a
 * regular expression over the same text.
 */
export function isBase64(text: string): boolean {
  if (text.length % 4 !== 0) return false;
  const padding = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  return Buffer.from(text, 'base64').length === (text.length / 4) * 3 - padding;
}
