/**
 * A profile as its file's bytes: compact JSON, and the check that keeps that text valid.
 *
 * A run writes a profile file per part and one for the run: two megabytes of base64 sketch
 * levels each for 30 columns. JSON.stringify looks at every character of a string for one to
 * escape (3-4 ms a profile on the scoring thread: docs/performance.md, "A profile's JSON"), and
 * a part's levels come from an inference worker as bytes (quantileSketch.ts `LevelText`). So the
 * levels are left out of the stringify and their bytes copied in as they are. Base64 has no
 * character to escape; that holds for every profile in memory: QuantileSketch encodes its own
 * levels, and a profile read from a file is checked (`isBase64`, profileFile.ts).
 *
 * @example
 *   await writeFile(path, profileBytes(profile));
 */
import { randomUUID } from 'node:crypto';
import type { Profile } from './profile.js';
import { levelTextOf, type LevelText, type SketchJson } from './quantileSketch.js';

/** The profile's file: JSON.stringify(profile)'s text and a newline, in UTF-8. */
export function profileBytes(profile: Profile): Buffer {
  // A marker no profile holds (a UUID per call); if one did, the count below tells, and the text is made the slow way.
  const marker = `sketch-level-${randomUUID()}`;
  const texts: LevelText[] = [];
  const columns = profile.columns.map((column) => {
    const sketch = column.numeric?.sketch;
    if (!sketch) return column;
    const text = levelTextOf(sketch);
    texts.push(text);
    return { ...column, numeric: { ...column.numeric!, sketch: marked(sketch, marker, text.ends.length) } };
  });
  const pieces = JSON.stringify({ ...profile, columns }).split(`"${marker}"`);
  const levels = texts.reduce((n, t) => n + t.ends.length, 0);
  if (pieces.length !== levels + 1) return Buffer.from(JSON.stringify(profile) + '\n');
  let size = 1 + levels * 2;
  for (const piece of pieces) size += Buffer.byteLength(piece);
  for (const t of texts) size += t.bytes.length;
  const out = Buffer.allocUnsafe(size);
  let at = out.write(pieces[0]!, 0);
  let next = 1;
  for (const { bytes, ends } of texts) {
    for (let h = 0; h < ends.length; h++) {
      const level = bytes.subarray(h === 0 ? 0 : ends[h - 1], ends[h]);
      out[at++] = QUOTE;
      out.set(level, at);
      at += level.length;
      out[at++] = QUOTE;
      at += out.write(pieces[next++]!, at);
    }
  }
  out[at] = NEWLINE;
  return out;
}

const QUOTE = 0x22;
const NEWLINE = 0x0a;

/** The sketch with each level's text a marker, its fields in their order, its levels not read (they may be made only when read: quantileSketch.ts `sketchJsonOfText`). */
function marked(sketch: SketchJson, marker: string, levels: number): Record<string, unknown> {
  return Object.fromEntries(Object.keys(sketch).map((key) => [key, key === 'levels' ? Array.from({ length: levels }, () => marker) : sketch[key as keyof SketchJson]]));
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
