import type { AttributeValue } from '@aws-sdk/client-dynamodb-streams';

/** JSON for a DynamoDB value: what `tail` prints, faithful for every type. */
export type AttributeJson =
  | string
  | number
  | boolean
  | null
  | AttributeJson[]
  | { [name: string]: AttributeJson };

/**
 * A DynamoDB number as JSON: a JavaScript number when the double prints back as the very same digits (DynamoDB
 * returns its numbers normalised), else the exact decimal string: above 2^53, more than 17 significant digits,
 * beyond a double's range. Nothing is ever rounded.
 */
export function numberJson(n: string): number | string {
  const value = Number(n);
  return Number.isFinite(value) && String(value) === n ? value : n;
}

function base64(bytes: Uint8Array | string | undefined): string {
  if (bytes === undefined) return '';
  return typeof bytes === 'string' ? bytes : Buffer.from(bytes).toString('base64');
}

/** One DynamoDB `AttributeValue` as JSON: numbers exact, binaries in base64, sets as arrays, maps and lists nested. */
export function attributeJson(value: AttributeValue): AttributeJson {
  const v = value as unknown as Record<string, unknown>;
  if (v.S !== undefined) return v.S as string;
  if (v.N !== undefined) return numberJson(v.N as string);
  if (v.B !== undefined) return base64(v.B as Uint8Array);
  if (v.BOOL !== undefined) return v.BOOL as boolean;
  if (v.NULL !== undefined) return null;
  if (v.SS !== undefined) return [...(v.SS as string[])];
  if (v.NS !== undefined) return (v.NS as string[]).map(numberJson);
  if (v.BS !== undefined) return (v.BS as Uint8Array[]).map(base64);
  if (v.L !== undefined) return (v.L as AttributeValue[]).map(attributeJson);
  if (v.M !== undefined) return imageJson(v.M as Record<string, AttributeValue>);
  return null;
}

/** An item image (attribute name to `AttributeValue`) as JSON. */
export function imageJson(image: Record<string, AttributeValue>): { [name: string]: AttributeJson } {
  const out: { [name: string]: AttributeJson } = {};
  for (const [name, value] of Object.entries(image)) out[name] = attributeJson(value);
  return out;
}
