import { describe, expect, it } from 'vitest';
import { fold } from '../../shared/domain/decider.ts';
import { connectionDecider, destinationOf, type ConnectionEvent } from '../../shared/calendars/connection.ts';
import type { ExternalCalendar } from '../../shared/calendars/provider.ts';
import { deciderSpec } from '../support/decider-spec.ts';

const spec = deciderSpec(connectionDecider);
const listed: ExternalCalendar[] = [
  { id: 'work', name: 'Work', primary: true, writable: true },
  { id: 'holidays', name: 'Holidays', primary: false, writable: false },
  { id: 'side', name: 'Side', primary: false, writable: true },
];
const connect = (organizerHasDestination = false, calendars = listed) =>
  ({ type: 'Connect', organizerId: 'org-1', provider: 'google', accountEmail: 'grace@example.com', calendars, organizerHasDestination }) as const;
const connected = (organizerHasDestination = false): ConnectionEvent => connectionDecider.decide(connect(organizerHasDestination), connectionDecider.initialState)[0]!;
const stateAfter = (events: ConnectionEvent[]) => fold(connectionDecider, events);

describe('connecting', () => {
  it('busy-checks the primary calendar and makes it the destination when the organizer has none', () => {
    const event = connected();
    expect(event.type).toBe('calendar.connected');
    expect(event.payload).toMatchObject({
      userId: 'org-1',
      calendars: [
        { id: 'work', busy: true, destination: true },
        { id: 'holidays', busy: false, destination: false },
        { id: 'side', busy: false, destination: false },
      ],
    });
  });

  it('leaves the destination where it is when the organizer already writes elsewhere', () => {
    const event = connected(true);
    expect((event.payload as { calendars: Array<{ destination: boolean; busy: boolean }> }).calendars.map((c) => [c.busy, c.destination])).toEqual([[true, false], [false, false], [false, false]]);
  });

  it('never makes a read-only primary the destination', () => {
    const [event] = connectionDecider.decide(connect(false, [{ id: 'ro', name: 'RO', primary: true, writable: false }]), connectionDecider.initialState);
    expect((event!.payload as { calendars: Array<{ destination: boolean; busy: boolean }> }).calendars[0]).toMatchObject({ busy: true, destination: false });
  });

  it('connecting the same unchanged account again records nothing', () => {
    spec.given([connected()]).when(connect()).thenNothing();
  });

  it('a reconnect keeps the flags the organizer chose and adds new calendars unchecked', () => {
    const flags: ConnectionEvent = { type: 'calendar.calendars.changed', payload: { userId: 'org-1', changes: [{ id: 'side', busy: true }] } };
    const [event] = connectionDecider.decide(connect(false, [...listed, { id: 'new', name: 'New', primary: false, writable: true }]), stateAfter([connected(), flags]));
    expect((event!.payload as { calendars: Array<{ id: string; busy: boolean; destination: boolean }> }).calendars.map((c) => [c.id, c.busy, c.destination])).toEqual([
      ['work', true, true], ['holidays', false, false], ['side', true, false], ['new', false, false],
    ]);
  });

  it('another organizer cannot take over a connection', () => {
    spec.given([connected()]).when({ ...connect(), organizerId: 'org-2' }).thenThrows('CalendarConnectionNotFound');
  });
});

describe('flags', () => {
  it('setting a destination clears the other one of the connection', () => {
    spec.given([connected()]).when({ type: 'ChangeFlags', changes: [{ id: 'side', destination: true }] }).then([
      { type: 'calendar.calendars.changed', payload: { userId: 'org-1', changes: [{ id: 'work', destination: false }, { id: 'side', destination: true }] } },
    ]);
  });

  it('one destination at most, only writable calendars, only calendars of the connection', () => {
    spec.given([connected()]).when({ type: 'ChangeFlags', changes: [{ id: 'side', destination: true }, { id: 'work', destination: true }] }).thenThrows('InvalidCalendarFlags');
    spec.given([connected()]).when({ type: 'ChangeFlags', changes: [{ id: 'holidays', destination: true }] }).thenThrows('InvalidCalendarFlags');
    spec.given([connected()]).when({ type: 'ChangeFlags', changes: [{ id: 'elsewhere', busy: true }] }).thenThrows('InvalidCalendarFlags');
  });

  it('the refusal names the field at fault', () => {
    try {
      connectionDecider.decide({ type: 'ChangeFlags', changes: [{ id: 'work', busy: true }, { id: 'holidays', destination: true }] }, stateAfter([connected()]));
      expect.unreachable();
    } catch (error) {
      expect((error as { fields: Array<{ path: string }> }).fields.map((f) => f.path)).toEqual(['calendars.1.destination']);
    }
  });

  it('a change to what already is records nothing', () => {
    spec.given([connected()]).when({ type: 'ChangeFlags', changes: [{ id: 'work', busy: true, destination: true }] }).thenNothing();
  });

  it('busy flags change independently', () => {
    spec.given([connected()]).when({ type: 'ChangeFlags', changes: [{ id: 'work', busy: false }, { id: 'holidays', busy: true }] }).then([
      { type: 'calendar.calendars.changed', payload: { userId: 'org-1', changes: [{ id: 'work', busy: false }, { id: 'holidays', busy: true }] } },
    ]);
  });

  it('a destination taken by another connection is cleared here', () => {
    const events = [connected()];
    spec.given(events).when({ type: 'ClearDestination' }).then([{ type: 'calendar.calendars.changed', payload: { userId: 'org-1', changes: [{ id: 'work', destination: false }] } }]);
    const cleared = connectionDecider.decide({ type: 'ClearDestination' }, stateAfter(events));
    expect(destinationOf(stateAfter([...events, ...cleared]))).toBeUndefined();
    spec.given([...events, ...cleared]).when({ type: 'ClearDestination' }).thenNothing();
  });
});

describe('needs_reauth', () => {
  const reauth: ConnectionEvent = { type: 'calendar.reauth.required', payload: { userId: 'org-1', provider: 'google', reason: 'invalid_grant' } };
  it('a revoked grant is recorded once, however many writes hit it', () => {
    spec.given([connected()]).when({ type: 'RequireReauth', reason: 'invalid_grant' }).then([reauth]);
    spec.given([connected(), reauth]).when({ type: 'RequireReauth', reason: 'invalid_grant' }).thenNothing();
    expect(stateAfter([connected(), reauth]).status).toBe('needs_reauth');
  });

  it('connecting again brings it back, with its flags', () => {
    const [again] = connectionDecider.decide(connect(), stateAfter([connected(), reauth]));
    expect(again!.type).toBe('calendar.connected');
    const state = stateAfter([connected(), reauth, again!]);
    expect(state.status).toBe('connected');
    expect(destinationOf(state)?.id).toBe('work');
  });
});

describe('disconnect', () => {
  it('records calendar.disconnected, after which the connection is gone for every command but a new connect', () => {
    spec.given([connected()]).when({ type: 'Disconnect' }).then([{ type: 'calendar.disconnected', payload: { userId: 'org-1', provider: 'google' } }]);
    const gone: ConnectionEvent = { type: 'calendar.disconnected', payload: { userId: 'org-1', provider: 'google' } };
    spec.given([connected(), gone]).when({ type: 'Disconnect' }).thenThrows('CalendarConnectionNotFound');
    spec.given([connected(), gone]).when({ type: 'ChangeFlags', changes: [{ id: 'work', busy: false }] }).thenThrows('CalendarConnectionNotFound');
    expect(destinationOf(stateAfter([connected(), gone]))).toBeUndefined();
    expect(connectionDecider.decide(connect(), stateAfter([connected(), gone]))[0]!.type).toBe('calendar.connected');
  });

  it('nothing to disconnect before a connect', () => {
    spec.given([]).when({ type: 'Disconnect' }).thenThrows('CalendarConnectionNotFound');
  });
});

describe('recording writes', () => {
  const write = (kind: 'created' | 'updated' | 'deleted', sequence: number) => ({ type: 'RecordWrite', bookingId: 'b-1', calendarId: 'work', externalEventId: 'ext-1', sequence, kind: kind === 'deleted' ? 'deleted' : 'put', change: kind === 'updated' ? 'moved' : undefined }) as const;
  it('a write is recorded once per booking version: a redelivery records nothing', () => {
    const [created] = connectionDecider.decide(write('created', 2), stateAfter([connected()]));
    expect(created).toEqual({ type: 'calendar.event.created', payload: { bookingId: 'b-1', userId: 'org-1', provider: 'google', calendarId: 'work', externalEventId: 'ext-1', sequence: 2 } });
    spec.given([connected(), created!]).when(write('created', 2)).thenNothing();
    const [moved] = connectionDecider.decide(write('updated', 3), stateAfter([connected(), created!]));
    expect(moved!.type).toBe('calendar.event.updated');
    spec.given([connected(), created!, moved!]).when(write('updated', 3)).thenNothing();
    const [deleted] = connectionDecider.decide(write('deleted', 4), stateAfter([connected(), created!, moved!]));
    expect(deleted!.type).toBe('calendar.event.deleted');
    spec.given([connected(), created!, moved!, deleted!]).when(write('deleted', 4)).thenNothing();
  });

  it('a write into another calendar of the connection (the destination moved) is a creation there, at the same version too', () => {
    const [created] = connectionDecider.decide(write('created', 2), stateAfter([connected()]));
    const elsewhere = { ...write('created', 2), calendarId: 'home', externalEventId: 'ext-2' };
    const [there] = connectionDecider.decide(elsewhere, stateAfter([connected(), created!]));
    expect(there).toMatchObject({ type: 'calendar.event.created', payload: { calendarId: 'home', externalEventId: 'ext-2', sequence: 2 } });
    spec.given([connected(), created!, there!]).when(elsewhere).thenNothing();
  });

  it('an older write arriving late changes nothing', () => {
    const [moved] = connectionDecider.decide(write('updated', 5), stateAfter([connected()]));
    expect(moved!.type).toBe('calendar.event.created');
    spec.given([connected(), moved!]).when(write('created', 2)).thenNothing();
  });
});
