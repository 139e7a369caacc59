import { randomUUID } from 'node:crypto';
import { crc32 } from 'node:zlib';

/** The AWS service a request is for, from its `X-Amz-Target` header. */
export type AwsService = 'kinesis' | 'dynamodb' | 'dynamodbStreams' | 'unknown';

/** Service and operation named by an `X-Amz-Target` header such as `Kinesis_20131202.PutRecords`. */
export interface AwsTarget {
  service: AwsService;
  /** Operation name (`PutRecords`), or `''` when the header is missing. */
  operation: string;
}

/** Reads the service and operation from an `X-Amz-Target` header value. */
export function parseTarget(header: string | string[] | undefined): AwsTarget {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return { service: 'unknown', operation: '' };
  const dot = value.lastIndexOf('.');
  const prefix = dot >= 0 ? value.slice(0, dot) : '';
  const operation = dot >= 0 ? value.slice(dot + 1) : value;
  const service: AwsService = prefix.startsWith('Kinesis_')
    ? 'kinesis'
    : prefix.startsWith('DynamoDBStreams_')
      ? 'dynamodbStreams'
      : prefix.startsWith('DynamoDB_')
        ? 'dynamodb'
        : 'unknown';
  return { service, operation };
}

/** A complete HTTP answer built by the proxy. */
export interface ProxyAnswer {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

function contentType(service: AwsService): string {
  return service === 'kinesis' ? 'application/x-amz-json-1.1' : 'application/x-amz-json-1.0';
}

/** Headers of a JSON answer for `service`, with the length (and, for DynamoDB, the CRC32 the SDKs may check). */
export function jsonHeaders(service: AwsService, body: Buffer): Record<string, string> {
  const headers: Record<string, string> = {
    'content-type': contentType(service),
    'content-length': String(body.length),
    'x-amzn-requestid': randomUUID(),
  };
  if (service === 'dynamodb' || service === 'dynamodbStreams') headers['x-amz-crc32'] = String(crc32(body));
  return headers;
}

/** A 200 JSON answer. */
export function jsonAnswer(service: AwsService, value: unknown): ProxyAnswer {
  const body = Buffer.from(JSON.stringify(value));
  return { status: 200, headers: jsonHeaders(service, body), body };
}

/** The error name used when a rule gives none. */
export function defaultErrorName(fault: 'throttle' | 'internal', service: AwsService): string {
  if (fault === 'throttle') return 'ProvisionedThroughputExceededException';
  return service === 'kinesis' || service === 'unknown' ? 'InternalFailure' : 'InternalServerError';
}

function errorMessage(name: string, operation: string): string {
  switch (name) {
    case 'ProvisionedThroughputExceededException':
      return `Rate exceeded for ${operation || 'this request'} (injected by the fault proxy).`;
    case 'ThrottlingException':
      return 'Rate of requests exceeds the allowed throughput (injected by the fault proxy).';
    case 'InternalFailure':
    case 'InternalServerError':
      return 'Internal server error (injected by the fault proxy).';
    default:
      return `${name} (injected by the fault proxy).`;
  }
}

/**
 * An AWS JSON protocol error answer: `{"__type": ..., "message": ...}` with the `x-amzn-ErrorType` header, the way
 * Kinesis (JSON 1.1) and DynamoDB (JSON 1.0, namespaced `__type`) send them, so SDKs raise an exception whose
 * `name` is `name`.
 */
export function errorAnswer(
  service: AwsService,
  status: number,
  name: string,
  operation: string,
): ProxyAnswer {
  const type =
    service === 'dynamodb' || service === 'dynamodbStreams'
      ? `com.amazonaws.dynamodb.v20120810#${name}`
      : name;
  const body = Buffer.from(JSON.stringify({ __type: type, message: errorMessage(name, operation) }));
  return { status, headers: { ...jsonHeaders(service, body), 'x-amzn-errortype': name }, body };
}
