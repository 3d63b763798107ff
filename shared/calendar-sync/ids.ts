// Ids derived from what they are about, as UUIDs (version 8: custom, from SHA-256), so the same pair or
// connection always lands on the same aggregate, whichever worker or retry records it.
import { createHash } from 'node:crypto';

export function derivedUuid(...parts: string[]): string {
  const bytes = createHash('sha256').update(JSON.stringify(parts)).digest().subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x80;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The aggregate a connection's sync notices (calendar.sync.failing) are recorded on. */
export const syncAggregateIdOf = (connectionId: string) => derivedUuid('calendar-sync', connectionId);
