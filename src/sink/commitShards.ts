/**
 * The commit of a sharded run's output: the shards' parts, joined per input file in row order
 * (shard/shardCheck.ts checks them and lists them), become the output exactly as one run's parts
 * would (commitOutput.ts: one file, or a directory of one file per input), in one rename. The
 * merge is staged in the output's shard directory, which `removeShards` drops once the run's
 * other files (summary, rejects) are in place.
 *
 * @example
 *   const { parts } = await checkShards(shardsDir, plan, n);
 *   const files = await commitShards({ db, output, parts, shardsDir });
 *   await removeShards(shardsDir);
 */
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Db } from '../db/duckdb.js';
import { BatchinferError } from '../errors.js';
import { PRIVATE_DIR_MODE } from './atomicFile.js';
import { commitOutput, type BeforeRename, type OutputSpec } from './commitOutput.js';
import type { Part } from './part.js';
import { guardWrite } from '../util/writeFailure.js';

export interface ShardsCommit {
  db: Db;
  output: OutputSpec;
  /** `parts[i]`: input file i's parts across the shards, in row order. */
  parts: Part[][];
  /** The output's shard directory (`shardsPathFor`). */
  shardsDir: string;
  beforeRename?: BeforeRename;
}

/** Where the commit merges, inside the shard directory (on the output's file system). */
export const COMMIT_STAGING = 'commit';

/** Commits the output; returns its files. Nothing exists at the output path until the rename. */
export async function commitShards(c: ShardsCommit): Promise<string[]> {
  const empty = c.parts.flatMap((p, i) => (p.length === 0 ? [i] : []));
  if (empty.length > 0 || c.parts.length !== c.output.inputs.length) {
    throw new BatchinferError('INTERNAL', `a sharded commit needs a part of every input file: input file${empty.length === 1 ? '' : 's'} ${empty.join(', ')} ha${empty.length === 1 ? 's' : 've'} none`, { expected: `parts of ${c.output.inputs.length} input files`, actual: `parts of ${c.parts.length - empty.length}` });
  }
  const staging = join(c.shardsDir, COMMIT_STAGING);
  await guardWrite(staging, async () => {
    await rm(staging, { recursive: true, force: true });
    await mkdir(staging, { recursive: true, mode: PRIVATE_DIR_MODE });
  });
  return commitOutput(c.db, c.output, c.parts.map((p) => p.map((part) => part.path)), staging, c.beforeRename);
}

/** Removes the shard directory: the plan, every shard's staging and manifest, the merge. */
export async function removeShards(shardsDir: string): Promise<void> {
  await guardWrite(shardsDir, () => rm(shardsDir, { recursive: true, force: true }));
}
