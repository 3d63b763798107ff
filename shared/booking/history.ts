import type { DomainEvent } from '../../events/envelope.ts';
import { fold } from '../domain/decider.ts';
import type { BookingView } from './booking-commands.ts';
import { bookingDecider, type Booking, type BookingEvent } from './decider.ts';

/**
 * The booking as it was right after event `version`, folded from its stream by the same decider that wrote it,
 * so time travel can never disagree with the read model. Undefined for a version the stream does not have.
 * `updatedAt` is that event's timestamp: when the booking last changed, as of then.
 */
export function bookingAtVersion(bookingId: string, history: readonly DomainEvent[], version: number): BookingView | undefined {
  const upTo = history.filter((event) => event.version <= version);
  const last = upTo.at(-1);
  if (!last || last.version !== version) return undefined;
  const state = fold(bookingDecider, upTo as unknown as BookingEvent[]);
  if (state.status === 'none') return undefined;
  return { ...(state as Booking), id: bookingId, version, updatedAt: last.metadata.timestamp };
}
