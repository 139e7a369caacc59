/** What a middleware of an SDK v3 client sees of a request: which client and which command. */
interface RequestContext {
  clientName?: string;
  commandName?: string;
}

type Handler = (args: never) => Promise<unknown>;

/**
 * An AWS SDK v3 client, as far as {@link recordActions} needs it: any `DynamoDBClient`, `KinesisClient`,
 * `DynamoDBStreamsClient` and the like.
 */
export interface ClientWithMiddleware {
  middlewareStack: {
    add(
      middleware: (next: Handler, context: RequestContext) => Handler,
      options: { step: 'initialize'; name: string },
    ): void;
    remove(name: string): boolean;
  };
}

/** The IAM actions the recorded clients sent, see {@link recordActions}. */
export interface ActionRecorder {
  /** Every action sent since recording started, sorted, each once: `dynamodb:BatchWriteItem`, `kinesis:PutRecords`. */
  actions(): string[];
  /** Stops recording (removes the middleware); {@link ActionRecorder.actions} keeps what was recorded. */
  stop(): void;
}

/** IAM service prefixes whose client name does not spell them. DynamoDB Streams actions are `dynamodb:` ones. */
const PREFIX_OF_CLIENT: Record<string, string> = { DynamoDBStreamsClient: 'dynamodb' };

let recorders = 0;

/**
 * The IAM action of a request: the service prefix of its client and the command's name without `Command`
 * (`KinesisClient` + `PutRecordsCommand` is `kinesis:PutRecords`).
 */
export function iamActionOf(clientName: string, commandName: string): string {
  const prefix = PREFIX_OF_CLIENT[clientName] ?? clientName.replace(/Client$/, '').toLowerCase();
  return `${prefix}:${commandName.replace(/Command$/, '')}`;
}

/**
 * Records the IAM actions that code sends through the given clients, so a test can assert that a role grants
 * exactly what the code uses (a new call without its permission fails the test instead of the deployment).
 * Every request counts, answered or not.
 *
 * @example
 * ```ts
 * import { recordActions, startLocalAws } from '@kinesis-archive/local';
 * import { ListStreamsCommand } from '@aws-sdk/client-kinesis';
 *
 * const aws = await startLocalAws({ dynamodb: false });
 * const recorder = recordActions(aws.clients.kinesis);
 * await aws.clients.kinesis.send(new ListStreamsCommand({}));
 * recorder.stop();
 * console.log(recorder.actions()); // [ 'kinesis:ListStreams' ]
 * await aws.stop();
 * ```
 */
export function recordActions(...clients: ClientWithMiddleware[]): ActionRecorder {
  const seen = new Set<string>();
  const name = `kinesis-archive-record-actions-${++recorders}`;
  for (const client of clients) {
    client.middlewareStack.add(
      (next, context) => (args) => {
        if (context.clientName && context.commandName) {
          seen.add(iamActionOf(context.clientName, context.commandName));
        }
        return next(args);
      },
      { step: 'initialize', name },
    );
  }
  let stopped = false;
  return {
    actions: () => [...seen].sort(),
    stop: () => {
      if (stopped) return;
      stopped = true;
      for (const client of clients) client.middlewareStack.remove(name);
    },
  };
}
