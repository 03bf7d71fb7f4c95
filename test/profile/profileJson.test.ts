/**
 * A profile's file: the same text as JSON.stringify whatever the profile holds (names and
 * categories that look like the levels, or hold quotes, the marker's prefix or characters of
 * several UTF-8 bytes; sketches whose levels are bytes or strings), and the base64
 * check that lets the levels go in unescaped, with a file whose level is not base64 refused.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BatchinferError } from '../../src/errors.js';
import { Profiler, type Profile } from '../../src/profile/profile.js';
import { readProfile, writeProfile } from '../../src/profile/profileFile.js';
import { isBase64, profileBytes } from '../../src/profile/profileJson.js';
import { levelText, type SketchJson } from '../../src/profile/quantileSketch.js';
import { normals } from '../helpers/seeded.js';
import { useTempDirs } from '../helpers/tempDir.js';

const tmp = useTempDirs();

/** Two numeric columns of 50,000 values (sketches with several levels), a categorical one whose names look like the sketch's fields. */
function sampleProfile(): Profile {
  const p = new Profiler('a "quoted" source with sketch-level- in it');
  p.addRows(50_000);
  p.addColumn('x', normals(1, 50_000));
  p.addColumn('levels', new Float32Array(normals(2, 50_000)));
  p.column('parity', 'VARCHAR').addValues(['levels', 'parity', '"sketch-level-"', 'prix €', 'levels'], 5);
  p.addColumn('prix €, 日本', normals(3, 1000));
  return p.profile();
}

/** The file's text, its newline checked and taken off. */
function profileJson(profile: Profile): string {
  const text = profileBytes(profile).toString('utf8');
  expect(text.endsWith('\n')).toBe(true);
  return text.slice(0, -1);
}

describe('profileJson', () => {
  it('writes the text JSON.stringify writes, levels and all', () => {
    const profile = sampleProfile();
    const levels = profile.columns.flatMap((c) => c.numeric?.sketch.levels ?? []);
    expect(levels.filter((l) => l.length > 1000).length).toBeGreaterThan(1);
    expect(profileJson(profile)).toBe(JSON.stringify(profile));
    expect(JSON.parse(profileJson(profile))).toEqual(profile);
  });

  it('writes the same text whether a sketch holds its levels as bytes (made here) or as strings (read from a file), one or the other or both', () => {
    const bytes = sampleProfile();
    const expected = JSON.stringify(sampleProfile());
    const strings = JSON.parse(expected) as Profile;
    const mixed = sampleProfile();
    (mixed.columns[0]!.numeric as { sketch: SketchJson }).sketch = strings.columns[0]!.numeric!.sketch;
    for (const profile of [bytes, strings, mixed]) expect(profileJson(profile)).toBe(expected);
    // Written from bytes, the levels were not made into strings (reading them drops the bytes).
    const fresh = sampleProfile();
    expect(profileJson(fresh)).toBe(expected);
    expect(fresh.columns.filter((c) => c.numeric).every((c) => levelText(c.numeric!.sketch) !== undefined)).toBe(true);
  });

  it('a profile with no numeric column, or with empty levels, is written as it is', () => {
    const strings = new Profiler('s');
    strings.column('c', 'VARCHAR').addValues(['a', 'b'], 2);
    expect(profileJson(strings.profile())).toBe(JSON.stringify(strings.profile()));
    const empty = new Profiler('e');
    empty.addColumn('x', new Float64Array(0));
    expect(profileJson(empty.profile())).toBe(JSON.stringify(empty.profile()));
  });
});

describe('isBase64', () => {
  it('takes base64 with its padding (Node decodes the URL alphabet too: no JSON escape either), and nothing else', () => {
    for (const text of ['', 'AAAA', 'AAA=', 'AA==', 'ab+/09Zz', 'AA-_', Buffer.from(Float64Array.of(Math.PI, -0, NaN).buffer).toString('base64')]) expect([text, isBase64(text)]).toEqual([text, true]);
    for (const text of ['A', 'AAA', 'A===', '====', 'AA=A', 'AA"A', 'AA\\A', 'AA\nA', 'AAA\u0000', 'AAAé', 'AAAA AAA']) expect([text, isBase64(text)]).toEqual([text, false]);
  });
});

describe('readProfile and sketch levels', () => {
  it('reads back what writeProfile wrote', async () => {
    const path = join(await tmp.make(), 'p.json');
    const profile = sampleProfile();
    await writeProfile(path, profile);
    expect(await readProfile(path)).toEqual(profile);
  });

  it('refuses a level that is not base64 (written as it is, it would break the JSON of a merge)', async () => {
    const dir = await tmp.make();
    const profile = sampleProfile();
    for (const bad of ['AA"A', 'AAA', 42]) {
      const doc = structuredClone(profile) as unknown as { columns: { numeric: { sketch: { levels: unknown[] } } | null }[] };
      doc.columns[0]!.numeric!.sketch.levels[0] = bad;
      const path = join(dir, 'bad.json');
      await writeFile(path, JSON.stringify(doc));
      const err = await readProfile(path).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BatchinferError);
      expect(err).toMatchObject({ code: 'INPUT_INVALID', message: `${path} is not a batchinfer profile`, actual: 'a sketch level that is not base64' });
    }
  });
});
