/**
 * The environment each array engine gives a task, for tests that start shards as N plain
 * processes "as if" on that engine (the variables each sets; docs/sharding.md), and the
 * `run` flags its deployment files pass.
 *
 * @example
 *   startCli(['run', job, ...engineFlags('aws-batch', 4)], { env: engineEnv('aws-batch', 2, 4) });
 */
export const ENGINES = ['slurm', 'kubernetes', 'aws-batch', 'cloud-batch'] as const;
export type Engine = (typeof ENGINES)[number];

/** What task `index` of an array of `count` sees. `resubmitted`: Slurm's task re-sent alone (`sbatch --array=I`). */
export function engineEnv(engine: Engine, index: number, count: number, options: { attempt?: number; resubmitted?: boolean } = {}): Record<string, string> {
  const attempt = options.attempt ?? 1;
  switch (engine) {
    case 'slurm':
      return { SLURM_ARRAY_JOB_ID: '1000', SLURM_ARRAY_TASK_ID: String(index), SLURM_ARRAY_TASK_COUNT: String(options.resubmitted ? 1 : count), SLURM_ARRAY_TASK_MIN: String(options.resubmitted ? index : 0), SLURM_RESTART_COUNT: String(attempt - 1) };
    case 'kubernetes':
      return { JOB_COMPLETION_INDEX: String(index) };
    case 'aws-batch':
      return { AWS_BATCH_JOB_ARRAY_INDEX: String(index), AWS_BATCH_JOB_ARRAY_SIZE: String(count), AWS_BATCH_JOB_ATTEMPT: String(attempt) };
    case 'cloud-batch':
      return { BATCH_TASK_INDEX: String(index), BATCH_TASK_COUNT: String(count), BATCH_TASK_RETRY_ATTEMPT: String(attempt - 1) };
  }
}

/** The `run` flags of the engine's deployment file: `--shards` where the engine gives no count. */
export function engineFlags(engine: Engine, count: number): string[] {
  return engine === 'slurm' || engine === 'kubernetes' ? ['--shard', 'auto', '--shards', String(count)] : ['--shard', 'auto'];
}
