import type { DomainEvent, Event, EventMetadata } from '../../events/envelope.ts';
import { fold, type Decider } from './decider.ts';
import { EventStore, type TransactionItem } from '../eventstore/event-store.ts';
import type { BookingTables } from '../booking/booking-commands.ts';

export type AggregateCommand<C, S, E extends Event> = {
  decider: Decider<C, S, E>;
  aggregateType: string;
  aggregateId: string;
  command: C;
  metadata: Omit<EventMetadata, 'timestamp'>;
  authorize?: (state: S) => void;
  /** The writes that keep the aggregate's read model (and any index) in step, in the same transaction. */
  project: (state: S, version: number) => TransactionItem[];
  alongside?: TransactionItem[];
};

/** Load, decide, append, project: the one path every aggregate other than the booking takes. */
export async function executeCommand<C, S, E extends Event>(tables: BookingTables, spec: AggregateCommand<C, S, E>): Promise<{ state: S; version: number; events: DomainEvent[] }> {
  const store = new EventStore(tables.client, tables.eventsTable);
  const history = (await store.load(spec.aggregateId)) as unknown as E[];
  const before = fold(spec.decider, history);
  spec.authorize?.(before);
  const decided = spec.decider.decide(spec.command, before);
  if (decided.length === 0) return { state: before, version: history.length, events: [] };
  const after = decided.reduce(spec.decider.evolve, before);
  const version = history.length + decided.length;
  const events = await store.append({
    aggregateId: spec.aggregateId,
    aggregateType: spec.aggregateType,
    expectedVersion: history.length,
    events: decided,
    metadata: spec.metadata,
    alongside: [...spec.project(after, version), ...(spec.alongside ?? [])],
  });
  return { state: after, version, events };
}

/** A read-model item: the whole state under a key, with an optional owner index entry. */
export function putView(tableName: string, key: { pk: string; sk: string }, view: Record<string, unknown>, owner?: { ownerKey: string; ownerSort: string }): TransactionItem {
  return { item: { Put: { TableName: tableName, Item: { ...key, ...owner, view } } } };
}
