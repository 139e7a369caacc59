import type { ReplicatedChange } from './replication.js';

/** One printable line for a change, e.g. `stream put {"pk":"a","sk":"1"}`. */
export function formatChange(change: ReplicatedChange): string {
  const keys = JSON.stringify(change.keys, (_key, value) =>
    typeof value === 'object' && value !== null && 'value' in value && typeof value.value === 'string'
      ? value.value
      : value,
  );
  const name = change.record ? change.record.eventName : change.type;
  return `${change.origin.padEnd(6)} ${name.padEnd(6)} ${keys}`;
}
