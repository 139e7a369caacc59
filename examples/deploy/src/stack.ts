import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps, Tags } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { HandlerFunction } from './function.js';
import { handlerEntries } from './paths.js';
import {
  archiverActions,
  dynamodbStreamPollerActions,
  kinesisPollerActions,
  onFailureQueueActions,
  producerActions,
  replicationActions,
} from './permissions.js';

/** Grants `actions` on `resources` to `role`, in a statement of its own. */
function grant(role: iam.IRole, actions: readonly string[], resources: string[]): void {
  role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: [...actions], resources }));
}

/**
 * An SQS on-failure destination of an event source mapping, without the grant `SqsDlq` adds (it also grants
 * `sqs:GetQueueAttributes` and `sqs:GetQueueUrl`, which Lambda does not send): the stack grants
 * `sqs:SendMessage` itself.
 */
function queueDestination(queue: sqs.IQueue): lambda.IEventSourceDlq {
  return { bind: () => ({ destination: queue.queueArn }) };
}

/**
 * Sort key of an ALL-mode archive table, as `createArchiveTable` of `@kinesis-archive/archive` creates it: the
 * fixed-width `(sequenceNumber, subSequenceNumber)` key of core's `encodeSequenceKey`.
 */
export const ARCHIVE_SORT_KEY = 'sequenceKey';

/** Props of {@link KinesisArchiveStack}. */
export interface KinesisArchiveStackProps extends StackProps {
  /** Shards of the source stream. Default 2. */
  shardCount?: number;
  /** Archive mode, written to the stream's `StreamArchiveMode` tag and the archiver's environment. Default `ALL`. */
  archiveMode?: 'ALL' | 'LATEST';
  /** Time to live of archived records in seconds (`ArchiveTTL` tag). Default 90 days; 0 = keep forever. */
  archiveTtlSeconds?: number;
  /** Records per archiver invocation. Default 500. */
  batchSize?: number;
  /** Retries of a failing batch before it goes to the dead-letter queue. Default 5. */
  retryAttempts?: number;
  /** Records older than this go to the dead-letter queue instead of being retried. Default 1 day. */
  maxRecordAge?: Duration;
  /** What happens to the tables and the stream when the stack is deleted. Default RETAIN (data is kept). */
  dataRemovalPolicy?: RemovalPolicy;
}

/**
 * The whole kinesis-archive pipeline on AWS:
 * producer Lambda -> source Kinesis stream -> archiver Lambda -> archive table (failed batches -> SQS), and a
 * source DynamoDB table whose stream feeds a replication Lambda that keeps a target table in sync.
 * Every permission is a grant on a named resource; no statement has `Resource: "*"`.
 */
export class KinesisArchiveStack extends Stack {
  /** The source stream. */
  readonly stream: kinesis.Stream;
  /** The archive table. */
  readonly archiveTable: dynamodb.Table;
  /** Failed-batch metadata of the archiver. */
  readonly archiverDeadLetters: sqs.Queue;
  /** The archiver function. */
  readonly archiver: HandlerFunction;
  /** The producer function. */
  readonly producer: HandlerFunction;
  /** The replicated source table. */
  readonly sourceTable: dynamodb.Table;
  /** The copy kept by the replication function. */
  readonly targetTable: dynamodb.Table;
  /** The replication function. */
  readonly replication: HandlerFunction;

  constructor(scope: Construct, id: string, props: KinesisArchiveStackProps = {}) {
    super(scope, id, props);
    const mode = props.archiveMode ?? 'ALL';
    const ttlSeconds = props.archiveTtlSeconds ?? 90 * 24 * 3600;
    const removalPolicy = props.dataRemovalPolicy ?? RemovalPolicy.RETAIN;

    // Producer -> stream.
    this.stream = new kinesis.Stream(this, 'SourceStream', {
      shardCount: props.shardCount ?? 2,
      retentionPeriod: Duration.hours(24),
      encryption: kinesis.StreamEncryption.MANAGED,
      removalPolicy,
    });
    Tags.of(this.stream).add('StreamArchiveMode', mode.toLowerCase());
    Tags.of(this.stream).add('ArchiveTTL', `expireSeconds=${ttlSeconds}`);

    this.producer = new HandlerFunction(this, 'Producer', {
      entry: handlerEntries.producer,
      environment: { STREAM_NAME: this.stream.streamName },
    });
    grant(this.producer.role, producerActions, [this.stream.streamArn]);

    // Stream -> archiver -> archive table.
    this.archiveTable = new dynamodb.Table(this, 'ArchiveTable', {
      partitionKey: { name: 'partitionKey', type: dynamodb.AttributeType.STRING },
      ...(mode === 'ALL' ? { sortKey: { name: ARCHIVE_SORT_KEY, type: dynamodb.AttributeType.STRING } } : {}),
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: 'expireAfter',
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy,
    });
    this.archiverDeadLetters = new sqs.Queue(this, 'ArchiverDeadLetters', {
      retentionPeriod: Duration.days(14),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    this.archiver = new HandlerFunction(this, 'Archiver', {
      entry: handlerEntries.archiver,
      timeout: Duration.minutes(2),
      environment: {
        ARCHIVE_TABLE: this.archiveTable.tableName,
        ARCHIVE_MODE: mode,
        ARCHIVE_TTL_SECONDS: String(ttlSeconds),
      },
    });
    grant(this.archiver.role, archiverActions[mode], [this.archiveTable.tableArn]);
    grant(this.archiver.role, archiverActions.readingTags, [this.stream.streamArn]);
    grant(this.archiver.role, kinesisPollerActions, [this.stream.streamArn]);
    grant(this.archiver.role, onFailureQueueActions, [this.archiverDeadLetters.queueArn]);
    const archiverMapping = new lambda.EventSourceMapping(this, 'ArchiverSource', {
      target: this.archiver.function,
      eventSourceArn: this.stream.streamArn,
      startingPosition: lambda.StartingPosition.TRIM_HORIZON,
      batchSize: props.batchSize ?? 500,
      maxBatchingWindow: Duration.seconds(1),
      bisectBatchOnError: true,
      retryAttempts: props.retryAttempts ?? 5,
      maxRecordAge: props.maxRecordAge ?? Duration.days(1),
      reportBatchItemFailures: true,
      parallelizationFactor: 1,
      onFailure: queueDestination(this.archiverDeadLetters),
    });
    archiverMapping.node.addDependency(this.archiver.role);

    // Source table -> its stream -> replication -> target table.
    this.sourceTable = new dynamodb.Table(this, 'SourceTable', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      stream: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy,
    });
    this.targetTable = new dynamodb.Table(this, 'TargetTable', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy,
    });
    const replicationDeadLetters = new sqs.Queue(this, 'ReplicationDeadLetters', {
      retentionPeriod: Duration.days(14),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    this.replication = new HandlerFunction(this, 'Replication', {
      entry: handlerEntries.replication,
      environment: { TARGET_TABLE: this.targetTable.tableName },
    });
    grant(this.replication.role, replicationActions, [this.targetTable.tableArn]);
    // Granted on this table's streams only (DynamoEventSource would add dynamodb:ListStreams on "*").
    grant(this.replication.role, dynamodbStreamPollerActions, [`${this.sourceTable.tableArn}/stream/*`]);
    grant(this.replication.role, onFailureQueueActions, [replicationDeadLetters.queueArn]);
    const replicationMapping = new lambda.EventSourceMapping(this, 'ReplicationSource', {
      target: this.replication.function,
      eventSourceArn: this.sourceTable.tableStreamArn!,
      startingPosition: lambda.StartingPosition.TRIM_HORIZON,
      batchSize: 100,
      bisectBatchOnError: true,
      retryAttempts: 10,
      maxRecordAge: Duration.hours(24),
      reportBatchItemFailures: true,
      onFailure: queueDestination(replicationDeadLetters),
    });
    replicationMapping.node.addDependency(this.replication.role);

    new CfnOutput(this, 'StreamName', { value: this.stream.streamName });
    new CfnOutput(this, 'ArchiveTableName', { value: this.archiveTable.tableName });
    new CfnOutput(this, 'ArchiverDeadLetterQueueUrl', { value: this.archiverDeadLetters.queueUrl });
    new CfnOutput(this, 'ProducerFunctionName', { value: this.producer.function.functionName });
    new CfnOutput(this, 'SourceTableName', { value: this.sourceTable.tableName });
    new CfnOutput(this, 'TargetTableName', { value: this.targetTable.tableName });
  }
}
