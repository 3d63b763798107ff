import type { DomainEvent, Event, EventMetadata } from '../../events/envelope.ts';
import { fold, type Decider } from './decider.ts';
import { ConcurrencyError, EventStore, type TransactionItem } from '../eventstore/event-store.ts';
import type { BookingTables } from '../booking/booking-commands.ts';

/** What the read-model writes of a command may depend on besides the state it leaves. */
export type ProjectionContext<S> = { version: number; before: S; now: Date };

export type AggregateCommand<C, S, E extends Event> = {
  decider: Decider<C, S, E>;
  aggregateType: string;
  aggregateId: string;
  command: C;
  metadata: Omit<EventMetadata, 'timestamp'>;
  /** Refuses the caller before anything is decided (throws a DomainError, e.g. not found for a stranger). */
  authorize?: (state: S) => void;
  /** Checks that need I/O on the state the command would leave (references to other aggregates). */
  check?: (after: S, before: S) => Promise<void>;
  /** The writes that keep the aggregate's read model (and any index) in step, in the same transaction. */
  project: (state: S, context: ProjectionContext<S>) => TransactionItem[];
  alongside?: TransactionItem[];
  /**
   * Whether a version conflict may be resolved by deciding again on the newer state (the default). A command
   * made against a version the caller saw (If-Match) must not be: the caller has to look again.
   */
  retryOnConflict?: boolean;
};

const CONFLICT_ATTEMPTS = 5;

/**
 * Load, decide, append, project: the one path every aggregate other than the booking takes. The read model is
 * written from the state the decider folds, in the events' transaction; a writer that lost the race for the
 * next version reloads and decides again, so no concurrent change is lost from the view.
 */
export async function executeCommand<C, S, E extends Event>(tables: BookingTables, spec: AggregateCommand<C, S, E>): Promise<{ state: S; version: number; events: DomainEvent[] }> {
  const store = new EventStore(tables.client, tables.eventsTable);
  for (let attempt = 1; ; attempt++) {
    const history = (await store.load(spec.aggregateId)) as unknown as E[];
    const before = fold(spec.decider, history);
    spec.authorize?.(before);
    const decided = spec.decider.decide(spec.command, before);
    if (decided.length === 0) return { state: before, version: history.length, events: [] };
    const after = decided.reduce(spec.decider.evolve, before);
    await spec.check?.(after, before);
    const version = history.length + decided.length;
    const now = new Date();
    try {
      const events = await store.append({
        aggregateId: spec.aggregateId,
        aggregateType: spec.aggregateType,
        expectedVersion: history.length,
        events: decided,
        metadata: spec.metadata,
        alongside: [...spec.project(after, { version, before, now }), ...(spec.alongside ?? [])],
        now,
      });
      return { state: after, version, events };
    } catch (error) {
      const retry = error instanceof ConcurrencyError && spec.retryOnConflict !== false && attempt < CONFLICT_ATTEMPTS;
      if (!retry) throw error;
      await new Promise((resolve) => setTimeout(resolve, 10 * attempt + Math.random() * 20));
    }
  }
}

/** A read-model item: the whole state under a key, with an optional owner index entry. */
export function putView(tableName: string, key: { pk: string; sk: string }, view: Record<string, unknown>, owner?: { ownerKey: string; ownerSort: string }): TransactionItem {
  return { item: { Put: { TableName: tableName, Item: { ...key, ...owner, view } } } };
}
