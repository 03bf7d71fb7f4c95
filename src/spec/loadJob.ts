/**
 * Reads a job file (YAML or JSON), applies flag overrides, and resolves it into a JobSpec.
 * Paths in the file are relative to the file; paths given as flags are already absolute.
 */
import { readFile } from 'node:fs/promises';
import { basename, dirname, extname, resolve } from 'node:path';
import YAML from 'yaml';
import { BatchinferError, type Problem } from '../errors.js';
import { checkJobSpec, type JobFile, type JobSpec } from './jobSpec.js';

/**
 * @param jobPath the job file, or undefined for a flag-only run
 * @param overrides job keys from flags (snake_case, absolute paths); they win over the file
 * @param cwd directory for relative paths of a flag-only run
 */
export async function loadJob(jobPath: string | undefined, overrides: JobFile = {}, cwd = process.cwd()): Promise<JobSpec> {
  const { spec, problems } = await loadJobChecked(jobPath, overrides, cwd);
  if (problems.length > 0 || !spec) throw BatchinferError.fromProblems(problems);
  return spec;
}

/**
 * As `loadJob`, but a job whose keys have problems still gives the spec of the keys that have
 * none (see `checkJobSpec`), so the model and the data can be checked too. A file that cannot
 * be read or parsed still throws.
 */
export async function loadJobChecked(jobPath: string | undefined, overrides: JobFile = {}, cwd = process.cwd()): Promise<{ spec: JobSpec | null; problems: Problem[] }> {
  if (!jobPath) return checkJobSpec(overrides, { baseDir: cwd, name: 'adhoc' });
  const absolute = resolve(cwd, jobPath);
  let text: string;
  try {
    text = await readFile(absolute, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : (err as Error).message;
    throw new BatchinferError('SPEC_MISSING', `job file ${jobPath} ${reason}`, { expected: 'a readable YAML or JSON job file', actual: absolute });
  }
  let raw: unknown;
  try {
    raw = YAML.parse(text, { uniqueKeys: true });
  } catch (err) {
    const message = ((err as Error).message.split('\n')[0] ?? '').replace(/:\s*$/, '');
    throw new BatchinferError('SPEC_INVALID', `job file ${jobPath} is not valid YAML/JSON: ${message}`);
  }
  if (raw !== null && raw !== undefined && (typeof raw !== 'object' || Array.isArray(raw))) {
    throw new BatchinferError('SPEC_INVALID', `job file ${jobPath} must hold a mapping of keys`, { expected: 'mapping', actual: Array.isArray(raw) ? 'list' : typeof raw });
  }
  const merged = { ...((raw as Record<string, unknown>) ?? {}), ...withoutUndefined(overrides) };
  return checkJobSpec(merged, { baseDir: dirname(absolute), name: basename(absolute, extname(absolute)) });
}

function withoutUndefined(obj: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined));
}
