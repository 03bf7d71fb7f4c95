/**
 * The files of a sharded run, all inside the output's shard directory (`.<name>.shards`
 * beside the output, `shardsPathFor`), which the commit removes:
 *
 *   plan.json              the plan the first shard recorded (shard/planRecord.ts)
 *   shard-3/               shard 3's staging directory: journal, part files, and last its manifest
 *   shard-3/manifest.json  written last and atomically: the shard is done (shardManifest.ts)
 *   shard-3/profile.json   the profile of shard 3's rows, when the run keeps one (its manifest lists it)
 *   shard-3.failed.json    the last failure of shard 3, for `verify`
 *   shard-3.lock           held by the live attempt of shard 3 (sink/lock.ts): a second one exits 75
 *   shard-3.attempt        how many attempts of shard 3 have started
 */
import { join } from 'node:path';

export const PLAN_NAME = 'plan.json';
export const SHARD_MANIFEST_NAME = 'manifest.json';
export const SHARD_PROFILE_NAME = 'profile.json';

export function planPath(shardsDir: string): string {
  return join(shardsDir, PLAN_NAME);
}

/** Shard `index`'s staging directory. */
export function shardDir(shardsDir: string, index: number): string {
  return join(shardsDir, `shard-${index}`);
}

export function shardManifestPath(shardsDir: string, index: number): string {
  return join(shardDir(shardsDir, index), SHARD_MANIFEST_NAME);
}

/** Beside the shard's staging directory, not in it: a retry that starts the staging over keeps it until it succeeds. */
export function shardFailurePath(shardsDir: string, index: number): string {
  return join(shardsDir, `shard-${index}.failed.json`);
}

/** Beside the shard's staging directory: one live attempt per shard (`acquireLock`). */
export function shardLockPath(shardsDir: string, index: number): string {
  return join(shardsDir, `shard-${index}.lock`);
}

export function shardAttemptPath(shardsDir: string, index: number): string {
  return join(shardsDir, `shard-${index}.attempt`);
}
