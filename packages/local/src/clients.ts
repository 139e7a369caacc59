import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { KinesisArchiveError } from '@kinesis-archive/core';
import { NodeHttpHandler } from '@smithy/node-http-handler';

/** Where the local stand-ins answer. */
export interface LocalAwsEndpoints {
  /** Region the clients use. */
  region: string;
  /** kinesis-mock's plain HTTP endpoint, when Kinesis was started. */
  kinesis?: string;
  /** DynamoDB Local's endpoint (also serves DynamoDB Streams), when DynamoDB was started. */
  dynamodb?: string;
}

/** AWS SDK v3 clients configured for the local stand-ins. */
export interface LocalClients {
  /** Kinesis client (HTTP/1.1 handler, which kinesis-mock needs). */
  readonly kinesis: KinesisClient;
  /** DynamoDB client. */
  readonly dynamodb: DynamoDBClient;
  /** DynamoDB Streams client. */
  readonly dynamodbStreams: DynamoDBStreamsClient;
  /** Closes the sockets of every client created so far. */
  destroy(): void;
}

/** Options of {@link createLocalClients}. */
export interface LocalClientsOptions {
  /**
   * Attempts per request, the first included (the SDK's `maxAttempts`). Default 3. Use 1 behind the fault proxy
   * to see each injected fault instead of the SDK retrying it away.
   */
  maxAttempts?: number;
  /** Most time one attempt may wait for an answer, in ms; past it the request fails (`TimeoutError`). Default 60,000. */
  requestTimeoutMs?: number;
}

/** Dummy credentials the stand-ins accept. They are not secrets and reach no AWS account. */
export const LOCAL_CREDENTIALS: { readonly accessKeyId: string; readonly secretAccessKey: string } = {
  accessKeyId: 'local',
  secretAccessKey: 'local',
};

/**
 * Builds SDK v3 clients for stand-ins at `endpoints`. Reading a client whose stand-in was not started throws a
 * clear error.
 *
 * @example
 * ```ts
 * const { kinesis } = createLocalClients({ region: 'us-east-1', kinesis: 'http://127.0.0.1:4568' });
 * // one attempt per request, e.g. through the fault proxy:
 * const once = createLocalClients({ region: 'us-east-1', kinesis: proxy.endpoint }, { maxAttempts: 1 });
 * ```
 */
export function createLocalClients(
  endpoints: LocalAwsEndpoints,
  options: LocalClientsOptions = {},
): LocalClients {
  const maxAttempts = options.maxAttempts ?? 3;
  const common = () => ({
    region: endpoints.region,
    credentials: { ...LOCAL_CREDENTIALS },
    maxAttempts,
    // HTTP/1.1 (kinesis-mock needs it) and timeouts; throwOnRequestTimeout, else a request past its timeout only
    // logs a warning and goes on waiting
    requestHandler: new NodeHttpHandler({
      connectionTimeout: 5_000,
      requestTimeout: options.requestTimeoutMs ?? 60_000,
      throwOnRequestTimeout: true,
    }),
  });
  const cache: Partial<Record<keyof LocalClients, unknown>> = {};
  const need = (name: string, endpoint: string | undefined): string => {
    if (!endpoint) {
      throw new KinesisArchiveError('STAND_IN_NOT_STARTED', `the local ${name} stand-in was not started`);
    }
    return endpoint;
  };
  const lazy = <K extends keyof LocalClients>(key: K, make: () => LocalClients[K]): LocalClients[K] => {
    cache[key] ??= make();
    return cache[key] as LocalClients[K];
  };
  return {
    get kinesis() {
      return lazy(
        'kinesis',
        () =>
          new KinesisClient({
            ...common(),
            endpoint: need('Kinesis', endpoints.kinesis),
          }),
      );
    },
    get dynamodb() {
      return lazy(
        'dynamodb',
        () => new DynamoDBClient({ ...common(), endpoint: need('DynamoDB', endpoints.dynamodb) }),
      );
    },
    get dynamodbStreams() {
      return lazy(
        'dynamodbStreams',
        () => new DynamoDBStreamsClient({ ...common(), endpoint: need('DynamoDB', endpoints.dynamodb) }),
      );
    },
    destroy() {
      for (const client of Object.values(cache)) (client as { destroy(): void }).destroy();
    },
  };
}

/** The environment variables that point the AWS CLI and SDKs at the stand-ins. */
export function localAwsEnv(endpoints: LocalAwsEndpoints): Record<string, string> {
  const env: Record<string, string> = {
    AWS_REGION: endpoints.region,
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
  };
  if (endpoints.kinesis) env.AWS_ENDPOINT_URL_KINESIS = endpoints.kinesis;
  if (endpoints.dynamodb) {
    env.AWS_ENDPOINT_URL_DYNAMODB = endpoints.dynamodb;
    env.AWS_ENDPOINT_URL_DYNAMODB_STREAMS = endpoints.dynamodb;
  }
  return env;
}
