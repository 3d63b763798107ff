// A calendar connection is an aggregate of its own ('calendar'): one organizer's grant at one provider account,
// with the calendars it lists and, per calendar, whether it blocks slots (`busy`) and whether bookings are
// written there (`destination`). Pure: the handlers pass in what they looked up (does the organizer already have
// a destination elsewhere?). One destination per organizer across all his connections is kept by the pointer
// item (keys.ts `destination`), written in the same transaction as the event that moves it; the connection
// that loses it records the change with ClearDestination.
import type { Event } from '../../events/envelope.ts';
import type { PayloadOf } from '../../events/catalog.ts';
import { MAX_CALENDARS } from '../../events/calendars.ts';
import { clip } from '../../events/primitives.ts';
import { notFound, ruleViolated, unreachable, type Decider, type RuleViolationField } from '../domain/decider.ts';
import type { ExternalCalendar, ProviderName } from './provider.ts';

export type ConnectedCalendar = PayloadOf<'calendar.connected'>['calendars'][number];
export type ConnectionStatus = 'connected' | 'needs_reauth' | 'disconnected';

/** Where each booking of this connection's organizer was written, and at which booking version. */
export type WrittenBooking = { calendarId: string; externalEventId: string; sequence: number; deleted: boolean };

export type ConnectionState =
  | { status: 'none' }
  | {
      status: ConnectionStatus;
      organizerId: string;
      provider: ProviderName;
      accountEmail?: string;
      calendars: ConnectedCalendar[];
      reauthReason?: string;
      written: Record<string, WrittenBooking>;
    };

export type ConnectionEvent =
  | Event<'calendar.connected', PayloadOf<'calendar.connected'>>
  | Event<'calendar.calendars.changed', PayloadOf<'calendar.calendars.changed'>>
  | Event<'calendar.reauth.required', PayloadOf<'calendar.reauth.required'>>
  | Event<'calendar.disconnected', PayloadOf<'calendar.disconnected'>>
  | Event<'calendar.event.created', PayloadOf<'calendar.event.created'>>
  | Event<'calendar.event.updated', PayloadOf<'calendar.event.updated'>>
  | Event<'calendar.event.deleted', PayloadOf<'calendar.event.deleted'>>;

export type FlagChange = { id: string; busy?: boolean; destination?: boolean };

export type ConnectionCommand =
  | {
      type: 'Connect';
      organizerId: string;
      provider: ProviderName;
      accountEmail?: string;
      calendars: ExternalCalendar[];
      /** Whether the organizer already writes bookings into a calendar of another connection. */
      organizerHasDestination: boolean;
    }
  | { type: 'ChangeFlags'; changes: FlagChange[] }
  /** Another connection of the organizer took the destination. */
  | { type: 'ClearDestination' }
  | { type: 'RequireReauth'; reason: string }
  | { type: 'Disconnect' }
  | {
      type: 'RecordWrite';
      bookingId: string;
      calendarId: string;
      externalEventId: string;
      /** The booking's version the write carried: a write at or below the recorded one is a repeat. */
      sequence: number;
      /** `put`: the booking's event now exists as the booking is; `deleted`: it is gone. */
      kind: 'put' | 'deleted';
      change?: 'moved' | 'cancelled' | 'details';
    };

const gone = () => notFound('CalendarConnectionNotFound', 'calendar connection does not exist');

/** The calendar that stands for the account: the one the provider calls primary, else the first listed. */
function primaryOf(calendars: ExternalCalendar[]): ExternalCalendar | undefined {
  return calendars.find((calendar) => calendar.primary) ?? calendars[0];
}

/**
 * The calendars of a (re)connect with their flags: kept from before where the calendar was already there; on
 * a first connect the primary is busy-checked and, if the organizer writes nowhere yet and it can be written,
 * the destination.
 */
function flagsOnConnect(listed: ExternalCalendar[], before: ConnectedCalendar[] | undefined, organizerHasDestination: boolean): ConnectedCalendar[] {
  const kept = new Map((before ?? []).map((calendar) => [calendar.id, calendar]));
  const primary = primaryOf(listed);
  const hadDestination = organizerHasDestination || (before ?? []).some((calendar) => calendar.destination && listed.some((l) => l.id === calendar.id));
  return listed.slice(0, MAX_CALENDARS).map((calendar) => {
    const old = kept.get(calendar.id);
    const isPrimary = calendar.id === primary?.id;
    return {
      id: calendar.id,
      name: clip(calendar.name.trim() || calendar.id, 200),
      primary: calendar.primary,
      writable: calendar.writable,
      busy: old ? old.busy : before ? false : isPrimary,
      destination: old ? old.destination && calendar.writable : !hadDestination && isPrimary && calendar.writable,
    };
  });
}

function decideFlags(state: Extract<ConnectionState, { calendars: unknown }>, changes: FlagChange[]): FlagChange[] {
  const fields: RuleViolationField[] = [];
  const byId = new Map(state.calendars.map((calendar) => [calendar.id, calendar]));
  const seen = new Set<string>();
  changes.forEach((change, index) => {
    const calendar = byId.get(change.id);
    if (!calendar) fields.push({ path: `calendars.${index}.id`, message: 'is not a calendar of this connection' });
    else if (change.destination && !calendar.writable) fields.push({ path: `calendars.${index}.destination`, message: 'this calendar cannot be written to' });
    if (seen.has(change.id)) fields.push({ path: `calendars.${index}.id`, message: 'is named twice' });
    seen.add(change.id);
  });
  if (changes.filter((change) => change.destination === true).length > 1) {
    fields.push({ path: 'calendars', message: 'at most one calendar is the destination' });
  }
  if (fields.length) throw ruleViolated('InvalidCalendarFlags', fields);
  const next = new Map(state.calendars.map((calendar) => [calendar.id, { busy: calendar.busy, destination: calendar.destination }]));
  const newDestination = changes.find((change) => change.destination === true)?.id;
  if (newDestination) for (const flags of next.values()) flags.destination = false;
  for (const change of changes) {
    const flags = next.get(change.id)!;
    if (change.busy !== undefined) flags.busy = change.busy;
    if (change.destination !== undefined) flags.destination = change.destination;
  }
  return state.calendars.flatMap((calendar) => {
    const flags = next.get(calendar.id)!;
    const diff: FlagChange = { id: calendar.id };
    if (flags.busy !== calendar.busy) diff.busy = flags.busy;
    if (flags.destination !== calendar.destination) diff.destination = flags.destination;
    return Object.keys(diff).length > 1 ? [diff] : [];
  });
}

export const connectionDecider: Decider<ConnectionCommand, ConnectionState, ConnectionEvent> = {
  initialState: { status: 'none' },
  decide(command, state) {
    if (command.type === 'Connect') {
      if (state.status !== 'none' && state.organizerId !== command.organizerId) throw gone();
      const before = state.status === 'none' || state.status === 'disconnected' ? undefined : state.calendars;
      const calendars = flagsOnConnect(command.calendars, before, command.organizerHasDestination);
      // Connecting what is connected and unchanged records nothing (a second click on "connect").
      if (state.status === 'connected' && JSON.stringify(calendars) === JSON.stringify(state.calendars)) return [];
      return [{ type: 'calendar.connected', payload: { userId: command.organizerId, provider: command.provider, accountEmail: command.accountEmail, calendars } }];
    }
    if (state.status === 'none' || state.status === 'disconnected') throw gone();
    const userId = state.organizerId;
    switch (command.type) {
      case 'ChangeFlags': {
        const changes = decideFlags(state, command.changes);
        return changes.length ? [{ type: 'calendar.calendars.changed', payload: { userId, changes } }] : [];
      }
      case 'ClearDestination': {
        const changes = state.calendars.filter((calendar) => calendar.destination).map((calendar) => ({ id: calendar.id, destination: false }));
        return changes.length ? [{ type: 'calendar.calendars.changed', payload: { userId, changes } }] : [];
      }
      case 'RequireReauth':
        // Many writes can fail on one revoked grant at once: the organizer hears of it once.
        if (state.status === 'needs_reauth') return [];
        return [{ type: 'calendar.reauth.required', payload: { userId, provider: state.provider, reason: clip(command.reason, 1000) } }];
      case 'Disconnect':
        return [{ type: 'calendar.disconnected', payload: { userId, provider: state.provider } }];
      case 'RecordWrite': {
        const known = state.written[command.bookingId];
        // A write into another calendar (the destination moved within this connection) is new there, whatever its version.
        const here = known && known.calendarId === command.calendarId;
        if (here && known.sequence >= command.sequence) return [];
        const base = { bookingId: command.bookingId, userId, provider: state.provider, calendarId: command.calendarId, externalEventId: command.externalEventId, sequence: command.sequence };
        if (command.kind === 'deleted') {
          // Nothing was written (or it is already removed): nothing to record.
          return !known || known.deleted ? [] : [{ type: 'calendar.event.deleted', payload: base }];
        }
        // The first write of a booking is its creation, whatever the event that caused it (a confirmation
        // redelivered after the reschedule writes the booking as it now is).
        if (!here || known.deleted) return [{ type: 'calendar.event.created', payload: base }];
        return [{ type: 'calendar.event.updated', payload: { ...base, change: command.change ?? 'details' } }];
      }
      default:
        return unreachable(command);
    }
  },
  evolve(state, event) {
    switch (event.type) {
      case 'calendar.connected': {
        const written = state.status === 'none' ? {} : state.written;
        const { userId, provider, accountEmail, calendars } = event.payload;
        return { status: 'connected', organizerId: userId, provider, accountEmail, calendars, written };
      }
      case 'calendar.calendars.changed': {
        if (state.status === 'none') return state;
        const changes = new Map(event.payload.changes.map((change) => [change.id, change]));
        const calendars = state.calendars.map((calendar) => {
          const change = changes.get(calendar.id);
          return change ? { ...calendar, busy: change.busy ?? calendar.busy, destination: change.destination ?? calendar.destination } : calendar;
        });
        return { ...state, calendars };
      }
      case 'calendar.reauth.required':
        return state.status === 'none' ? state : { ...state, status: 'needs_reauth', reauthReason: event.payload.reason };
      case 'calendar.disconnected':
        return state.status === 'none' ? state : { ...state, status: 'disconnected', calendars: state.calendars.map((calendar) => ({ ...calendar, destination: false })) };
      case 'calendar.event.created':
      case 'calendar.event.updated':
      case 'calendar.event.deleted': {
        if (state.status === 'none') return state;
        const { bookingId, calendarId, externalEventId, sequence } = event.payload;
        const written = { ...state.written, [bookingId]: { calendarId, externalEventId, sequence: sequence ?? 0, deleted: event.type === 'calendar.event.deleted' } };
        return { ...state, written };
      }
      default:
        return unreachable(event);
    }
  },
};

/** The calendar bookings go to, if this connection holds the organizer's destination. */
export function destinationOf(state: ConnectionState): ConnectedCalendar | undefined {
  return state.status === 'connected' ? state.calendars.find((calendar) => calendar.destination) : undefined;
}
