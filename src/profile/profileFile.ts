/**
 * Profile files: read and checked (`readProfile`), written atomically (`writeProfile`), and
 * the profile of a path that may be a profile file or a dataset (`profileOf`: `drift` takes
 * either). A path ending in `.json` is a profile; anything else is a dataset.
 */
import { readFile } from 'node:fs/promises';
import type { Db } from '../db/duckdb.js';
import { BatchinferError } from '../errors.js';
import { writeFileAtomic } from '../sink/atomicFile.js';
import type { ColumnProfile } from './columnProfile.js';
import { PROFILE_VERSION, type Profile } from './profile.js';
import { isBase64, profileBytes, sketchesOf } from './profileJson.js';
import { profileDataset } from './profileDataset.js';

export function isProfilePath(path: string): boolean {
  return /\.json$/i.test(path);
}

/** The profile `path` holds, or the profile of the dataset at `path` (read with `openDb`'s Db, opened only then). */
export async function profileOf(path: string, openDb: () => Promise<Db>, columns?: readonly string[]): Promise<Profile> {
  if (isProfilePath(path)) return readProfile(path);
  return (await profileDataset(await openDb(), path, { columns })).profile;
}

/** Writes a profile as one JSON document, atomically, with `fileMode` (default: the umask's). */
export async function writeProfile(path: string, profile: Profile, fileMode?: number): Promise<void> {
  await writeFileAtomic(path, profileBytes(profile), fileMode);
}

/** Reads and checks a profile file: a JSON object of a known profile_version with the fields drift reads. */
export async function readProfile(path: string): Promise<Profile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new BatchinferError('INPUT_MISSING', `profile ${path} ${code === 'ENOENT' ? 'does not exist' : `cannot be read: ${code ?? (err as Error).message}`}`, { expected: 'a profile JSON file', actual: code ?? 'unreadable' });
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw notAProfile(path, 'text that is not JSON');
  }
  return checkProfile(path, doc);
}

function notAProfile(path: string, actual: unknown): BatchinferError {
  return new BatchinferError('INPUT_INVALID', `${path} is not a batchinfer profile`, { expected: `a JSON object with "profile_version": ${PROFILE_VERSION} (written by batchinfer profile)`, actual });
}

function checkProfile(path: string, doc: unknown): Profile {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc) || !('profile_version' in doc)) throw notAProfile(path, 'no profile_version');
  const version = (doc as { profile_version: unknown }).profile_version;
  if (version !== PROFILE_VERSION) {
    throw new BatchinferError('INPUT_INVALID', `profile ${path} has profile_version ${JSON.stringify(version)}, which this batchinfer does not read`, { expected: `profile_version ${PROFILE_VERSION}`, actual: version });
  }
  const p = doc as Partial<Profile>;
  if (typeof p.rows !== 'number' || !Array.isArray(p.columns) || !p.columns.every(isColumn)) throw notAProfile(path, 'a profile_version but not the fields of a profile');
  const profile: Profile = { profile_version: PROFILE_VERSION, source: typeof p.source === 'string' ? p.source : path, rows: p.rows, columns: p.columns, prediction: p.prediction ?? null };
  // profileBytes writes the levels as they are: a level that is not base64 would break the JSON written.
  if (!sketchesOf(profile).every((s) => Array.isArray(s.levels) && s.levels.every((l) => typeof l === 'string' && isBase64(l)))) throw notAProfile(path, 'a sketch level that is not base64');
  return profile;
}

function isColumn(c: unknown): c is ColumnProfile {
  if (typeof c !== 'object' || c === null) return false;
  const col = c as Partial<ColumnProfile>;
  return typeof col.name === 'string' && (col.kind === 'numeric' || col.kind === 'categorical') && typeof col.rows === 'number' && typeof col.nulls === 'number' && (col.kind !== 'numeric' || (typeof col.numeric === 'object' && col.numeric !== null)) && (col.kind !== 'categorical' || (typeof col.categories === 'object' && col.categories !== null));
}
