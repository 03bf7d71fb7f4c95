/**
 * The deployment files in deploy/, checked offline: the Kubernetes manifests against the
 * Kubernetes API schemas (the `kubernetes-models` package validates an object without a
 * cluster), plus a check that every field name is one the API knows (its schemas do not
 * refuse unknown fields); the AWS Batch and Cloud Batch requests against the fields their API
 * references document; the Slurm scripts with `bash -n`. Each file's retry rules must say what
 * docs/sharding.md says: retry 75, 73 and 70; never 2, 65, 66, 78.
 */
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CronJob } from 'kubernetes-models/batch/v1/CronJob';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { EXIT } from '../../src/errors.js';
import { REPO_ROOT } from '../helpers/cli.js';
import { intIn, listOf, matching, oneOf, shapeProblems, type Shape } from './fieldShape.js';

const DEPLOY = join(REPO_ROOT, 'deploy');
/** Worth a retry: locked or interrupted, output unwritable, inference failed. */
const RETRY = [EXIT.TEMP_FAIL, EXIT.CANT_CREATE, EXIT.INTERNAL].sort((a, b) => a - b);
/** Never worth one: the same input fails the same way. */
const FINAL = [EXIT.USAGE, EXIT.DATA, EXIT.NO_INPUT, EXIT.CONFIG].sort((a, b) => a - b);
const sorted = (codes: readonly number[]) => [...codes].sort((a, b) => a - b);
const json = (name: string): Record<string, unknown> => JSON.parse(readFileSync(join(DEPLOY, name), 'utf8')) as Record<string, unknown>;

/** Every field name the Kubernetes schemas of kubernetes-models (and its apimachinery types: ObjectMeta) validate. */
function kubernetesFieldNames(): Set<string> {
  const names = new Set<string>();
  for (const pkg of ['kubernetes-models', '@kubernetes-models/apimachinery']) {
    const dir = join(REPO_ROOT, 'node_modules', pkg, '_schemas');
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.mjs'))) {
      for (const m of readFileSync(join(dir, file), 'utf8').matchAll(/(?:parentDataProperty:"|data\.)([A-Za-z_$][\w$]*)/g)) names.add(m[1]!);
    }
  }
  return names;
}
const K8S_FIELDS = kubernetesFieldNames();
/** Maps whose keys are the user's, not the API's. */
const FREE_MAPS = new Set(['labels', 'annotations', 'matchLabels', 'nodeSelector', 'data', 'requests', 'limits']);

function unknownKubernetesFields(value: unknown, path = ''): string[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => unknownKubernetesFields(v, `${path}[${i}]`));
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value as Record<string, unknown>).flatMap(([k, v]) => [...(K8S_FIELDS.has(k) ? [] : [`${path}.${k}`]), ...(FREE_MAPS.has(k) ? [] : unknownKubernetesFields(v, `${path}.${k}`))]);
}

function kubernetesObjects(file: string): Record<string, unknown>[] {
  return YAML.parseAllDocuments(readFileSync(join(DEPLOY, file), 'utf8')).map((d) => d.toJS() as Record<string, unknown>);
}

function validateKubernetes(doc: Record<string, unknown>): void {
  const model = doc['kind'] === 'Job' ? new Job(doc as never) : doc['kind'] === 'CronJob' ? new CronJob(doc as never) : null;
  if (!model) throw new Error(`no model for ${String(doc['kind'])}`);
  model.validate();
  expect(unknownKubernetesFields(doc)).toEqual([]);
}

interface PodFailureRule {
  action: string;
  onExitCodes?: { containerName?: string; operator: string; values: number[] };
  onPodConditions?: { type: string; status?: string }[];
}

describe('Kubernetes manifests', () => {
  it('the field check knows the Job fields and catches a misspelt one; the schema catches a wrong value', () => {
    expect(K8S_FIELDS.has('backoffLimitPerIndex')).toBe(true);
    expect(K8S_FIELDS.has('podFailurePolicy')).toBe(true);
    const [job] = kubernetesObjects('kubernetes/shards-job.yaml');
    const spec = job!['spec'] as Record<string, unknown>;
    expect(unknownKubernetesFields({ ...job, spec: { ...spec, backoffLimitPerIdx: 3 } })).toEqual(['.spec.backoffLimitPerIdx']);
    expect(() => new Job({ ...job, spec: { ...spec, completionMode: 'Indexd' } } as never).validate()).toThrow(/completionMode must be equal to one of the allowed values/);
    const rules = (spec['podFailurePolicy'] as { rules: PodFailureRule[] }).rules;
    expect(() => new Job({ ...job, spec: { ...spec, podFailurePolicy: { rules: [{ ...rules[0], action: 'FailIdx' }] } } } as never).validate()).toThrow(/action must be equal to one of the allowed values/);
  });

  it.each(['kubernetes/shards-job.yaml', 'kubernetes/commit-job.yaml', 'cronjob.yaml'])('%s validates against the Kubernetes schemas', (file) => {
    const docs = kubernetesObjects(file);
    expect(docs.length).toBeGreaterThan(0);
    for (const doc of docs) validateKubernetes(doc);
  });

  it('the Indexed Job: one index per shard, retries per index by exit code, evictions not counted', () => {
    const [job] = kubernetesObjects('kubernetes/shards-job.yaml');
    const spec = job!['spec'] as Record<string, unknown> & { template: { spec: { restartPolicy: string; containers: { name: string; args: string[] }[] } } };
    expect(spec['completionMode']).toBe('Indexed');
    const args = spec.template.spec.containers[0]!.args;
    expect(args.slice(0, 1).concat(args.slice(2))).toEqual(['run', '--shard', 'auto', '--shards', String(spec['completions']), '--quiet']);
    expect(spec['backoffLimitPerIndex']).toBeGreaterThan(0);
    expect(spec.template.spec.restartPolicy).toBe('Never');
    const rules = (spec['podFailurePolicy'] as { rules: PodFailureRule[] }).rules;
    const codes = (action: string) => sorted(rules.filter((r) => r.action === action).flatMap((r) => r.onExitCodes?.values ?? []));
    expect(codes('FailIndex')).toEqual(FINAL);
    expect(codes('Count')).toEqual(RETRY);
    for (const r of rules.filter((r) => r.onExitCodes)) expect(r.onExitCodes).toMatchObject({ containerName: 'batchinfer', operator: 'In' });
    expect(rules.find((r) => r.action === 'Ignore')?.onPodConditions).toEqual([{ type: 'DisruptionTarget', status: 'True' }]);
  });

  it('the commit Job: commit with the same --shards, the same job file and volumes', () => {
    const [shards] = kubernetesObjects('kubernetes/shards-job.yaml');
    const [commit] = kubernetesObjects('kubernetes/commit-job.yaml');
    const podOf = (j: Record<string, unknown>) => (j['spec'] as { template: { spec: { containers: { args: string[]; volumeMounts: unknown }[]; volumes: unknown } } }).template.spec;
    const args = podOf(commit!).containers[0]!.args;
    expect(args).toEqual(['commit', podOf(shards!).containers[0]!.args[1], '--shards', String((shards!['spec'] as { completions: number }).completions)]);
    expect(podOf(commit!).volumes).toEqual(podOf(shards!).volumes);
    expect(podOf(commit!).containers[0]!.volumeMounts).toEqual(podOf(shards!).containers[0]!.volumeMounts);
    const rules = ((commit!['spec'] as Record<string, unknown>)['podFailurePolicy'] as { rules: PodFailureRule[] }).rules;
    expect(sorted(rules.filter((r) => r.action === 'FailJob').flatMap((r) => r.onExitCodes!.values))).toEqual(FINAL);
  });
});

// AWS Batch API reference: RegisterJobDefinition, SubmitJob, ContainerProperties, RetryStrategy,
// EvaluateOnExit ("up to 5"; onExitCode: numbers, may end with *), ResourceRequirement,
// Volume, EFSVolumeConfiguration, MountPoint, JobTimeout, ArrayProperties (size 2-10,000).
const AWS_NAME = matching(/^[A-Za-z0-9][A-Za-z0-9_-]*$/, 128);
const AWS_REASON = matching(/^[A-Za-z0-9.:\s]*\*?$/, 512);
const AWS_CONTAINER: Shape = {
  image: 'string',
  command: ['string'],
  resourceRequirements: [{ type: oneOf('VCPU', 'MEMORY', 'GPU'), value: matching(/^\d+(\.\d+)?$/) }],
  volumes: [{ name: 'string', host: { sourcePath: 'string' }, efsVolumeConfiguration: { fileSystemId: matching(/^fs-[0-9a-f]+$/), rootDirectory: 'string', transitEncryption: oneOf('ENABLED', 'DISABLED'), transitEncryptionPort: 'integer', authorizationConfig: 'any' } }],
  mountPoints: [{ containerPath: 'string', readOnly: 'boolean', sourceVolume: 'string' }],
  environment: [{ name: 'string', value: 'string' }],
  jobRoleArn: 'string',
  executionRoleArn: 'string',
  readonlyRootFilesystem: 'boolean',
  user: 'string',
  linuxParameters: 'any',
  logConfiguration: 'any',
  secrets: 'any',
};
const AWS_JOB_DEFINITION: Shape = {
  jobDefinitionName: AWS_NAME,
  type: oneOf('container', 'multinode'),
  platformCapabilities: [oneOf('EC2', 'FARGATE')],
  containerProperties: AWS_CONTAINER,
  retryStrategy: {
    attempts: intIn(1, 10),
    evaluateOnExit: listOf({ action: oneOf('RETRY', 'EXIT', 'retry', 'exit'), onExitCode: matching(/^\d*\*?$/, 512), onReason: AWS_REASON, onStatusReason: AWS_REASON }, 5),
  },
  timeout: { attemptDurationSeconds: intIn(60, 2 ** 31) },
  propagateTags: 'boolean',
  parameters: 'any',
  tags: 'any',
  schedulingPriority: 'integer',
};
const AWS_SUBMIT: Shape = {
  jobName: AWS_NAME,
  jobQueue: 'string',
  jobDefinition: 'string',
  arrayProperties: { size: intIn(2, 10_000) },
  dependsOn: [{ jobId: 'string', type: oneOf('N_TO_N', 'SEQUENTIAL') }],
  containerOverrides: { command: ['string'], environment: [{ name: 'string', value: 'string' }], resourceRequirements: 'any', instanceType: 'string' },
  parameters: 'any',
  retryStrategy: 'any',
  timeout: 'any',
  tags: 'any',
  propagateTags: 'boolean',
};

describe('AWS Batch requests', () => {
  it('the field check catches an undocumented field, a sixth rule and a bad exit-code pattern', () => {
    expect(shapeProblems({ jobDefinitionName: 'x', retryStrategy: { attempts: 11, evaluateOnExit: [{ action: 'RETRY', onExitCode: '7?' }] }, bogus: 1 }, AWS_JOB_DEFINITION)).toEqual([
      '$.retryStrategy.attempts: expected an integer from 1 to 10, got 11',
      expect.stringMatching(/^\$\.retryStrategy\.evaluateOnExit: \[0\]\.onExitCode: expected/),
      '$.bogus: not a documented field',
    ]);
    expect(shapeProblems({ retryStrategy: { evaluateOnExit: Array.from({ length: 6 }, () => ({ action: 'EXIT' })) } }, AWS_JOB_DEFINITION)).toEqual(['$.retryStrategy.evaluateOnExit: at most 5 items, got 6']);
  });

  it('the job definition and the submissions use documented fields only', () => {
    expect(shapeProblems(json('aws-batch/job-definition.json'), AWS_JOB_DEFINITION)).toEqual([]);
    expect(shapeProblems(json('aws-batch/submit-shards.json'), AWS_SUBMIT)).toEqual([]);
    expect(shapeProblems(json('aws-batch/submit-commit.json'), AWS_SUBMIT)).toEqual([]);
  });

  it('retry 75, 73, 70 and a lost Spot host; every other failure exits; the commit has the array size as --shards', () => {
    const def = json('aws-batch/job-definition.json') as { containerProperties: { command: string[] }; retryStrategy: { evaluateOnExit: { action: string; onExitCode?: string; onReason?: string; onStatusReason?: string }[] } };
    const rules = def.retryStrategy.evaluateOnExit;
    expect(sorted(rules.filter((r) => r.action === 'RETRY' && r.onExitCode).map((r) => Number(r.onExitCode)))).toEqual(RETRY);
    // The first matching rule decides: the last one catches every other failure.
    expect(rules.at(-1)).toEqual({ onReason: '*', action: 'EXIT' });
    expect(rules.some((r) => r.action === 'RETRY' && r.onStatusReason === 'Host EC2*')).toBe(true);
    expect(def.containerProperties.command).toEqual(['run', expect.any(String), '--shard', 'auto', '--quiet']);
    const size = (json('aws-batch/submit-shards.json') as { arrayProperties: { size: number } }).arrayProperties.size;
    const commit = json('aws-batch/submit-commit.json') as { containerOverrides: { command: string[] } };
    expect(commit.containerOverrides.command).toEqual(['commit', def.containerProperties.command[1], '--shards', String(size)]);
  });
});

// Cloud Batch API reference (batch.googleapis.com v1): Job, TaskGroup, TaskSpec (maxRetryCount
// 0-10, lifecyclePolicies at most 10), Runnable, Runnable.Container, ComputeResource,
// LifecyclePolicy (RETRY_TASK | FAIL_TASK, ActionCondition.exitCodes), Volume, NFS,
// AllocationPolicy, InstancePolicy (provisioningModel STANDARD | SPOT | PREEMPTIBLE), LogsPolicy.
const GCP_VOLUME: Shape = { nfs: { server: 'string', remotePath: 'string' }, gcs: { remotePath: 'string' }, deviceName: 'string', mountPath: 'string', mountOptions: ['string'] };
const GCP_JOB: Shape = {
  priority: 'any',
  labels: 'any',
  taskGroups: listOf({
    name: 'string',
    taskCount: intIn(1, 1_000_000, true),
    parallelism: intIn(1, 1_000_000, true),
    taskCountPerNode: intIn(1, 1000, true),
    schedulingPolicy: oneOf('AS_SOON_AS_POSSIBLE', 'IN_ORDER'),
    taskEnvironments: 'any',
    taskSpec: {
      runnables: [{ container: { imageUri: 'string', commands: ['string'], entrypoint: 'string', volumes: ['string'], options: 'string', blockExternalNetwork: 'boolean' }, script: 'any', barrier: 'any', displayName: 'string', ignoreExitStatus: 'boolean', background: 'boolean', alwaysRun: 'boolean', environment: 'any', timeout: 'string' }],
      computeResource: { cpuMilli: intIn(1, 1_000_000, true), memoryMib: intIn(1, 10_000_000, true), bootDiskMib: intIn(1, 100_000_000, true) },
      maxRunDuration: matching(/^\d+(\.\d+)?s$/),
      maxRetryCount: intIn(0, 10),
      lifecyclePolicies: listOf({ action: oneOf('RETRY_TASK', 'FAIL_TASK'), actionCondition: { exitCodes: ['integer'] } }, 10),
      environment: 'any',
      volumes: [GCP_VOLUME],
    },
  }, 1),
  allocationPolicy: { location: 'any', instances: [{ policy: { machineType: 'string', minCpuPlatform: 'string', provisioningModel: oneOf('STANDARD', 'SPOT', 'PREEMPTIBLE'), accelerators: 'any', bootDisk: 'any', disks: 'any', reservation: 'string' }, instanceTemplate: 'string', installGpuDrivers: 'boolean', installOpsAgent: 'boolean' }], serviceAccount: 'any', network: 'any', placement: 'any', tags: ['string'], labels: 'any' },
  logsPolicy: { destination: oneOf('CLOUD_LOGGING', 'PATH'), logsPath: 'string', cloudLoggingOption: 'any' },
};

describe('Cloud Batch jobs', () => {
  it('the field check catches an undocumented field and an unknown action', () => {
    expect(shapeProblems({ taskGroups: [{ taskSpec: { lifecyclePolicies: [{ action: 'RETRY', actionCondition: { exitCode: [1] } }] } }] }, GCP_JOB)).toEqual([
      expect.stringMatching(/^\$\.taskGroups: \[0\]\.taskSpec\.lifecyclePolicies: \[0\]\.action: expected one of RETRY_TASK, FAIL_TASK, got "RETRY"; \[0\]\.actionCondition\.exitCode: not a documented field$/),
    ]);
  });

  it.each(['cloud-batch/shards-job.json', 'cloud-batch/commit-job.json'])('%s uses documented fields only', (file) => {
    expect(shapeProblems(json(file), GCP_JOB)).toEqual([]);
  });

  it('FAIL_TASK on 2, 65, 66, 78 (anything else is retried); the commit has the task count as --shards', () => {
    type GcpJob = { taskGroups: { taskCount: string; taskSpec: { maxRetryCount: number; lifecyclePolicies: { action: string; actionCondition: { exitCodes: number[] } }[]; runnables: { container: { commands: string[] } }[]; volumes: unknown } }[] };
    const shards = json('cloud-batch/shards-job.json') as GcpJob;
    const commit = json('cloud-batch/commit-job.json') as GcpJob;
    for (const job of [shards, commit]) {
      const policies = job.taskGroups[0]!.taskSpec.lifecyclePolicies;
      expect(policies.map((p) => p.action)).toEqual(['FAIL_TASK']);
      expect(sorted(policies[0]!.actionCondition.exitCodes)).toEqual(FINAL);
      expect(job.taskGroups[0]!.taskSpec.maxRetryCount).toBeGreaterThan(0);
    }
    const command = shards.taskGroups[0]!.taskSpec.runnables[0]!.container.commands;
    expect(command).toEqual(['run', expect.any(String), '--shard', 'auto', '--quiet']);
    expect(commit.taskGroups[0]!.taskSpec.runnables[0]!.container.commands).toEqual(['commit', command[1], '--shards', shards.taskGroups[0]!.taskCount]);
    expect(commit.taskGroups[0]!.taskSpec.volumes).toEqual(shards.taskGroups[0]!.taskSpec.volumes);
  });
});

describe('Slurm scripts', () => {
  it.each(['slurm/shards.sbatch', 'slurm/commit.sbatch'])('%s is valid bash', async (file) => {
    await promisify(execFile)('bash', ['-n', join(DEPLOY, file)]);
  });

  it('shards.sbatch requeues on exactly the codes worth a retry, and never reads SLURM_ARRAY_TASK_COUNT', () => {
    const text = readFileSync(join(DEPLOY, 'slurm/shards.sbatch'), 'utf8');
    const codes = /^\s*((?:\d+\s*\|\s*)*\d+)\)\s*$/m.exec(text)?.[1]?.split('|').map((c) => Number(c.trim()));
    expect(sorted(codes ?? [])).toEqual(RETRY);
    expect(text).toContain('--shard auto --shards "$SHARDS"');
    expect(text.split('\n').filter((l) => !l.startsWith('#')).join('\n')).not.toContain('SLURM_ARRAY_TASK_COUNT');
  });
});
