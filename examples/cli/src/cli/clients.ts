import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { LOCAL_CREDENTIALS } from '@kinesis-archive/local';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { UsageError } from './errors.js';

/** Most time to open a connection, and most time a request may wait for an answer, per attempt. */
export const CONNECTION_TIMEOUT_MS = 5_000;
export const REQUEST_TIMEOUT_MS = 30_000;

/** The connection options every command takes. */
export interface ConnectionOptions {
  /** One endpoint for every service (the local stand-ins' DynamoDB and Kinesis differ: prefer the per-service ones). */
  endpoint?: string;
  kinesisEndpoint?: string;
  dynamodbEndpoint?: string;
  region?: string;
  /** Most time one request may wait for an answer, per attempt, in ms (`--timeout`). Default {@link REQUEST_TIMEOUT_MS}. */
  timeout?: number;
}

/** SDK clients built from the command line; `destroy()` closes their sockets. */
export interface CliClients {
  kinesis: KinesisClient;
  dynamodb: DynamoDBClient;
  dynamodbStreams: DynamoDBStreamsClient;
  destroy(): void;
}

/**
 * True when the SDK's default chain has something to find in the environment. Only the variables' presence is
 * looked at, never their values.
 */
function environmentHasCredentials(env: NodeJS.ProcessEnv): boolean {
  return [
    'AWS_ACCESS_KEY_ID',
    'AWS_PROFILE',
    'AWS_WEB_IDENTITY_TOKEN_FILE',
    'AWS_CONTAINER_CREDENTIALS_FULL_URI',
  ]
    .concat('AWS_CONTAINER_CREDENTIALS_RELATIVE_URI')
    .some((name) => Boolean(env[name]));
}

/** Checks an endpoint option: an http(s) URL. @throws {@link UsageError} otherwise. */
export function parseEndpoint(option: string, value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(
      `${option} expects a URL such as http://127.0.0.1:4567, got ${JSON.stringify(value)}`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`${option} expects an http:// or https:// URL, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** Makes every `send` of a client carry the command's abort signal (Ctrl-C ends a request that hangs). */
function withSignal<C extends { send: (...args: never[]) => unknown }>(
  client: C,
  signal: AbortSignal | undefined,
): C {
  if (!signal) return client;
  const send = client.send.bind(client) as (command: unknown, options?: Record<string, unknown>) => unknown;
  (client as { send: unknown }).send = (command: unknown, options?: Record<string, unknown>) =>
    send(command, { abortSignal: signal, ...options });
  return client;
}

/**
 * Builds the clients. Credentials come from the SDK's default chain; with an endpoint override and no credentials
 * in the environment, the stand-ins' dummy credentials are used. Kinesis always speaks HTTP/1.1 (kinesis-mock
 * needs it; AWS accepts it). Every client has a connection and a request timeout, and every request carries
 * `signal`.
 *
 * @throws {@link UsageError} for an endpoint that is not a URL.
 */
export function createClients(
  options: ConnectionOptions,
  env: NodeJS.ProcessEnv = process.env,
  signal?: AbortSignal,
): CliClients {
  const kinesisEndpoint = options.kinesisEndpoint ?? options.endpoint;
  const dynamodbEndpoint = options.dynamodbEndpoint ?? options.endpoint;
  if (options.endpoint) parseEndpoint('--endpoint', options.endpoint);
  if (options.kinesisEndpoint) parseEndpoint('--kinesis-endpoint', options.kinesisEndpoint);
  if (options.dynamodbEndpoint) parseEndpoint('--dynamodb-endpoint', options.dynamodbEndpoint);
  const local = Boolean(kinesisEndpoint || dynamodbEndpoint) && !environmentHasCredentials(env);
  const region =
    options.region ?? (env.AWS_REGION || env.AWS_DEFAULT_REGION || (local ? 'us-east-1' : undefined));
  const common = {
    ...(region ? { region } : {}),
    ...(local ? { credentials: { ...LOCAL_CREDENTIALS } } : {}),
  };
  // each client: its endpoint, the timeouts, and the command's signal on every request
  const config = (endpoint: string | undefined) => ({
    ...common,
    ...(endpoint ? { endpoint } : {}),
    requestHandler: new NodeHttpHandler({
      connectionTimeout: CONNECTION_TIMEOUT_MS,
      requestTimeout: options.timeout ?? REQUEST_TIMEOUT_MS,
      // without it, a request past its timeout only logs a warning and goes on waiting
      throwOnRequestTimeout: true,
    }),
  });
  const kinesis = withSignal(new KinesisClient(config(kinesisEndpoint)), signal);
  const dynamodb = withSignal(new DynamoDBClient(config(dynamodbEndpoint)), signal);
  const dynamodbStreams = withSignal(new DynamoDBStreamsClient(config(dynamodbEndpoint)), signal);
  return {
    kinesis,
    dynamodb,
    dynamodbStreams,
    destroy() {
      kinesis.destroy();
      dynamodb.destroy();
      dynamodbStreams.destroy();
    },
  };
}
