/**
 * Types of the events AWS Lambda delivers from a Kinesis event source mapping, and of the partial batch
 * response, plus a factory that builds such events (for tests and local runners).
 *
 * @module
 */

/** The `kinesis` payload of a Lambda Kinesis event record. */
export interface KinesisEventPayload {
  kinesisSchemaVersion?: string;
  partitionKey: string;
  sequenceNumber: string;
  /** The record's data, base64. Lambda does not deaggregate KPL aggregates. */
  data: string;
  /** Arrival time in epoch seconds (with a fraction). */
  approximateArrivalTimestamp: number;
}

/** One record of a Lambda Kinesis event (`event.Records[i]`). */
export interface KinesisEventRecord {
  eventSource: string;
  eventVersion?: string;
  /** `<shardId>:<sequenceNumber>`. */
  eventID: string;
  eventName?: string;
  invokeIdentityArn?: string;
  awsRegion?: string;
  eventSourceARN: string;
  kinesis: KinesisEventPayload;
}

/** The event a Kinesis-triggered Lambda function receives. */
export interface KinesisStreamEvent {
  Records: KinesisEventRecord[];
}

/** One failed item of a partial batch response: the sequence number Lambda should retry from. */
export interface BatchItemFailure {
  itemIdentifier: string;
}

/** Partial batch response (`FunctionResponseTypes: ["ReportBatchItemFailures"]`). Empty list = all succeeded. */
export interface KinesisBatchResponse {
  batchItemFailures: BatchItemFailure[];
}

/** A record as the AWS SDK v3 `GetRecords` returns it (the fields kinesis-archive reads). */
export interface GetRecordsRecord {
  SequenceNumber?: string;
  ApproximateArrivalTimestamp?: Date;
  Data?: Uint8Array;
  PartitionKey?: string;
  EncryptionType?: string;
}

/** Where a record came from, to build its Lambda-shaped form. */
export interface EventSourceInfo {
  shardId: string;
  eventSourceARN: string;
  awsRegion?: string;
}

/**
 * Builds the Lambda event record for a `GetRecords` record, exactly as a Kinesis event source mapping would
 * deliver it (base64 data, epoch-seconds arrival time, `eventID` = `shardId:sequenceNumber`).
 *
 * @example
 * ```ts
 * const event = { Records: out.Records.map((r) => toKinesisEventRecord(r, { shardId, eventSourceARN })) };
 * await handler(event);
 * ```
 */
export function toKinesisEventRecord(record: GetRecordsRecord, source: EventSourceInfo): KinesisEventRecord {
  const data = record.Data ?? new Uint8Array(0);
  const arrival = record.ApproximateArrivalTimestamp ?? new Date();
  const sequenceNumber = record.SequenceNumber ?? '';
  const arnParts = source.eventSourceARN.split(':');
  return {
    eventSource: 'aws:kinesis',
    eventVersion: '1.0',
    eventID: `${source.shardId}:${sequenceNumber}`,
    eventName: 'aws:kinesis:record',
    invokeIdentityArn: `arn:aws:iam::${arnParts[4] || '000000000000'}:role/local-event-source`,
    awsRegion: source.awsRegion ?? (arnParts[3] || 'us-east-1'),
    eventSourceARN: source.eventSourceARN,
    kinesis: {
      kinesisSchemaVersion: '1.0',
      partitionKey: record.PartitionKey ?? '',
      sequenceNumber,
      data: Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64'),
      approximateArrivalTimestamp: arrival.getTime() / 1000,
    },
  };
}

/** The shard id of a Lambda Kinesis event record, from its `eventID` (`shardId-000000000000:4958...`). */
export function shardIdOfEvent(record: Pick<KinesisEventRecord, 'eventID'>): string | undefined {
  const i = record.eventID?.lastIndexOf(':') ?? -1;
  return i > 0 ? record.eventID.slice(0, i) : undefined;
}
