/**
 * The profile of a sharded run (docs/drift.md): each shard keeps the profile of its rows in its
 * staging directory, listed in its manifest (shardRun.ts); the commit merges them, in shard
 * order, into the profile one run of the job writes, and compares it with the job's
 * `reference` as a run does (its `drift.fail_on` gates the commit: exit 1, the output
 * committed). No shard judges drift: its rows are only a part of the run's.
 *
 * @example
 *   const { profile, drift } = await mergeShardProfiles(job, shardsDir, checked.manifests, outputTarget(spec.output));
 */
import { join } from 'node:path';
import type { Profile } from '../profile/profile.js';
import type { ShardManifest } from '../sink/shardManifest.js';
import { shardDir } from '../sink/shardPaths.js';
import type { PreparedJob } from './prepare.js';
import { referenceDrift, type RunDrift } from './referenceDrift.js';
import { profileOfPieces } from './runProfile.js';

export interface ShardedProfile {
  /** The run's profile; null when the shards kept none (`profile: false`), or when one that scored rows kept none. */
  profile: Profile | null;
  drift?: RunDrift;
  /** Why no profile is written although some shards kept one. */
  warning?: string;
}

/** The shards' profiles merged (`source`: what the run's profile names, the output), and their drift against the job's reference. */
export async function mergeShardProfiles(job: PreparedJob, shardsDir: string, manifests: readonly ShardManifest[], source: string): Promise<ShardedProfile> {
  const kept = manifests.filter((m) => m.profile !== undefined);
  if (kept.length === 0) return { profile: null };
  // A shard that scored rows without a profile (run with --no-profile): the merged profile would miss them.
  const without = manifests.filter((m) => m.profile === undefined && m.rows.in > 0).map((m) => m.shard.index);
  if (without.length > 0) {
    return { profile: null, warning: `shard${without.length === 1 ? '' : 's'} ${without.join(', ')} kept no profile of ${without.length === 1 ? 'its' : 'their'} rows: the run's profile would miss them, so none is written` };
  }
  const profile = await profileOfPieces(kept.map((m) => join(shardDir(shardsDir, m.shard.index), m.profile!.file)), source);
  if (!job.reference) return { profile };
  return { profile, drift: referenceDrift(job.reference, job.spec.reference!, profile, job.spec.drift) };
}
