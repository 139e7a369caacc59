import type { WriteResult } from './types.js';

/** Where the handler's metrics go. */
export interface ArchiveMetricsOptions {
  /** CloudWatch namespace. Default `KinesisArchive`. */
  namespace?: string;
  /** Writes one line (a JSON document). Default `console.log`: Lambda sends stdout to CloudWatch Logs, which extracts the metrics. */
  log?: (line: string) => void;
}

/** The metrics of one stream in one invocation. */
export interface InvocationMetrics {
  streamName: string;
  mode: string;
  result: Pick<WriteResult, 'written' | 'skippedStale' | 'compacted' | 'tombstoned'> & {
    quarantined: number;
    failed: number;
  };
  /** Age of the oldest record of the batch (now - its `approximateArrivalTimestamp`), ms; undefined when unknown. */
  oldestRecordAgeMs: number | undefined;
}

const COUNTS = [
  ['RecordsWritten', 'written'],
  ['RecordsStale', 'skippedStale'],
  ['RecordsCompacted', 'compacted'],
  ['RecordsTombstoned', 'tombstoned'],
  ['RecordsQuarantined', 'quarantined'],
  ['RecordsFailed', 'failed'],
] as const;

/**
 * One CloudWatch Embedded Metric Format document: the record counts of one stream in one invocation, and the age
 * of its oldest record, with the stream name and the archive mode as dimensions.
 */
export function embeddedMetrics(metrics: InvocationMetrics, namespace: string, timestamp: number): string {
  const values: Record<string, number> = {};
  const definitions: { Name: string; Unit: string }[] = [];
  for (const [name, field] of COUNTS) {
    values[name] = metrics.result[field];
    definitions.push({ Name: name, Unit: 'Count' });
  }
  if (metrics.oldestRecordAgeMs !== undefined) {
    values.OldestRecordAge = Math.max(0, metrics.oldestRecordAgeMs);
    definitions.push({ Name: 'OldestRecordAge', Unit: 'Milliseconds' });
  }
  return JSON.stringify({
    _aws: {
      Timestamp: timestamp,
      CloudWatchMetrics: [
        { Namespace: namespace, Dimensions: [['StreamName', 'Mode']], Metrics: definitions },
      ],
    },
    StreamName: metrics.streamName,
    Mode: metrics.mode,
    ...values,
  });
}
