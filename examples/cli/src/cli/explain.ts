import { KinesisArchiveError } from '@kinesis-archive/core';

/** A failure as the CLI prints it: a stable code, what happened, and what to do next. */
export interface Explained {
  code: string;
  message: string;
  hint?: string | undefined;
}

const CREDENTIALS_HINT =
  'check the credentials (AWS_PROFILE, AWS_ACCESS_KEY_ID, an SSO login) and that they may call this; for the local stand-ins pass --kinesis-endpoint / --dynamodb-endpoint';
const UNREACHABLE_HINT =
  'check the endpoint (is the stand-in running? `kinesis-archive local` prints its endpoints) and --region';

const BY_NAME: Record<string, { code: string; hint: string }> = {
  ResourceNotFoundException: {
    code: 'NOT_FOUND',
    hint: 'check the name, --region and the endpoint',
  },
  AccessDeniedException: { code: 'ACCESS_DENIED', hint: CREDENTIALS_HINT },
  UnrecognizedClientException: { code: 'BAD_CREDENTIALS', hint: CREDENTIALS_HINT },
  InvalidSignatureException: { code: 'BAD_CREDENTIALS', hint: CREDENTIALS_HINT },
  ExpiredTokenException: { code: 'BAD_CREDENTIALS', hint: 'the credentials expired: log in again' },
  CredentialsProviderError: { code: 'NO_CREDENTIALS', hint: CREDENTIALS_HINT },
  ValidationException: { code: 'INVALID_REQUEST', hint: 'check the options against the table or stream' },
  ThrottlingException: { code: 'THROTTLED', hint: 'the service is throttling: run it again later' },
  ProvisionedThroughputExceededException: {
    code: 'THROTTLED',
    hint: 'the table or stream is at its throughput limit: run it again later',
  },
  LimitExceededException: { code: 'THROTTLED', hint: 'an account or stream limit: run it again later' },
  TimeoutError: { code: 'TIMEOUT', hint: UNREACHABLE_HINT },
};

const BY_CODE: Record<string, string> = {
  STREAM_NOT_FOUND: 'check the name, --region and the endpoint',
};

const NETWORK = /ECONNREFUSED|ECONNRESET|ENOTFOUND|EHOSTUNREACH|EAI_AGAIN|socket hang up|timed? ?out/i;

/** Explains any thrown value in one line's worth: the code, the message, and a hint when one helps. */
export function explainError(error: unknown): Explained {
  if (error instanceof KinesisArchiveError) {
    const own = (error as { hint?: unknown }).hint;
    const cause = error.cause !== undefined ? explainError(error.cause) : undefined;
    return {
      code: error.code,
      message: error.message,
      hint: typeof own === 'string' ? own : (BY_CODE[error.code] ?? cause?.hint),
    };
  }
  if (!(error instanceof Error)) return { code: 'ERROR', message: String(error) };
  const known = BY_NAME[error.name];
  if (known) return { code: known.code, message: `${error.name}: ${error.message}`, hint: known.hint };
  if (/Region is missing/i.test(error.message)) {
    return {
      code: 'NO_REGION',
      message: 'no AWS region',
      hint: 'pass --region (for example --region eu-west-1) or set AWS_REGION',
    };
  }
  const code = (error as { code?: unknown }).code;
  if (NETWORK.test(error.message) || (typeof code === 'string' && NETWORK.test(code))) {
    return { code: 'UNREACHABLE', message: error.message, hint: UNREACHABLE_HINT };
  }
  if (error.name === 'AbortError') return { code: 'ABORTED', message: 'interrupted' };
  return {
    code: 'ERROR',
    message: error.name && error.name !== 'Error' ? `${error.name}: ${error.message}` : error.message,
  };
}

/** The line the CLI prints for a failure: `error [CODE]: message (what to do)`, never more than one line. */
export function errorLine(error: unknown): string {
  const e = explainError(error);
  const text = `error [${e.code}]: ${e.message}${e.hint ? ` (${e.hint})` : ''}`;
  return text.replace(/\s*\n\s*/g, ' ');
}
