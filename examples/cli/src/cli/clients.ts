import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { LOCAL_CREDENTIALS } from '@kinesis-archive/local';
import { NodeHttpHandler } from '@smithy/node-http-handler';

/** The connection options every command takes. */
export interface ConnectionOptions {
  /** One endpoint for every service (the local stand-ins' DynamoDB and Kinesis differ: prefer the per-service ones). */
  endpoint?: string;
  kinesisEndpoint?: string;
  dynamodbEndpoint?: string;
  region?: string;
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

/**
 * Builds the clients. Credentials come from the SDK's default chain; with an endpoint override and no credentials
 * in the environment, the stand-ins' dummy credentials are used. Kinesis always speaks HTTP/1.1 (kinesis-mock
 * needs it; AWS accepts it).
 */
export function createClients(options: ConnectionOptions, env: NodeJS.ProcessEnv = process.env): CliClients {
  const kinesisEndpoint = options.kinesisEndpoint ?? options.endpoint;
  const dynamodbEndpoint = options.dynamodbEndpoint ?? options.endpoint;
  const local = Boolean(kinesisEndpoint || dynamodbEndpoint) && !environmentHasCredentials(env);
  const region =
    options.region ?? (env.AWS_REGION || env.AWS_DEFAULT_REGION || (local ? 'us-east-1' : undefined));
  const common = {
    ...(region ? { region } : {}),
    ...(local ? { credentials: { ...LOCAL_CREDENTIALS } } : {}),
  };
  const kinesis = new KinesisClient({
    ...common,
    ...(kinesisEndpoint ? { endpoint: kinesisEndpoint } : {}),
    requestHandler: new NodeHttpHandler({ connectionTimeout: 5_000, requestTimeout: 60_000 }),
  });
  const dynamodb = new DynamoDBClient({
    ...common,
    ...(dynamodbEndpoint ? { endpoint: dynamodbEndpoint } : {}),
  });
  const dynamodbStreams = new DynamoDBStreamsClient({
    ...common,
    ...(dynamodbEndpoint ? { endpoint: dynamodbEndpoint } : {}),
  });
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
