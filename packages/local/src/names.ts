import { randomBytes } from 'node:crypto';

/**
 * A unique resource name for a test or a demo run, such as `orders-1a2b3c4d`: letters, digits and `-` only, so it
 * is valid as a stream and a table name.
 */
export function uniqueName(prefix = 'ka'): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}
