// Conflicts recorded against DynamoDB Local, from real bookings (the booking command path, with its time
// claims) and real merged busy time (the calendars slice's busy store): detected with a severity, once however
// often or concurrently reconciled, listed per host, resolved when either side moves or goes.
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseDomainEvent } from '../../events/catalog.ts';
import { executeBookingCommand, type BookingTables } from '../../shared/booking/booking-commands.ts';
import type { BookingCommand, BookingRequest } from '../../shared/booking/decider.ts';
import { applyBusyRead } from '../../shared/calendars/busy-store.ts';
import { EventStore } from '../../shared/eventstore/event-store.ts';
import { listConflicts, reconcileHostConflicts } from '../../shared/calendar-sync/conflict-store.ts';
import { createTestTables, type TestTables } from '../support/tables.ts';

let test: TestTables;
let tables: BookingTables;
const now = new Date('2031-05-01T00:00:00.000Z');
const at = (time: string) => `2031-05-06T${time}:00.000Z`;

beforeAll(async () => {
  test = await createTestTables();
  tables = { client: test.client, eventsTable: test.events, stateTable: test.state };
});

const run = (bookingId: string, command: BookingCommand) => executeBookingCommand(tables, { bookingId, command, metadata: { correlationId: `corr-${bookingId}` } });

async function confirmed(hostId: string, start: string, end: string, buffers = { before: 15, after: 15 }) {
  const bookingId = randomUUID();
  const request: BookingRequest = {
    eventTypeId: 'et-1',
    organizerId: hostId,
    hostIds: [hostId],
    title: 'Intro call',
    start: at(start),
    end: at(end),
    bufferBeforeMinutes: buffers.before,
    bufferAfterMinutes: buffers.after,
    attendee: { name: 'Ada Lovelace', email: 'ada@example.com', timeZone: 'Europe/London' },
    requiresConfirmation: false,
  };
  await run(bookingId, { type: 'RequestBooking', request });
  await run(bookingId, { type: 'AcceptBooking' });
  return bookingId;
}

const calendar = (hostId: string) => ({ hostId, connectionId: 'cal-00000000000000000000000000000001', calendarId: 'https://caldav.example/dev/calendar/' });
const put = (hostId: string, externalEventId: string, spans: Array<[string, string]>, bookingId?: string) =>
  applyBusyRead(tables, calendar(hostId), { full: false, events: [{ externalEventId, spans: spans.map(([s, e]) => ({ start: at(s), end: at(e) })), ...(bookingId ? { bookingId } : {}) }], removed: [], cursor: 'c', requests: 1 });
const remove = (hostId: string, externalEventId: string) => applyBusyRead(tables, calendar(hostId), { full: false, events: [], removed: [externalEventId], cursor: 'c', requests: 1 });

async function eventsOf(conflictId: string) {
  return (await new EventStore(tables.client, tables.eventsTable).load(conflictId)).map((event) => parseDomainEvent(event));
}

describe('recorded conflicts', () => {
  it('detects an external event over a booking once, with its severity, and lists it for the host only', async () => {
    const host = `host-${randomUUID()}`;
    const bookingId = await confirmed(host, '09:00', '09:30');
    await put(host, 'dentist', [['09:15', '10:00']]);
    await put(host, 'coffee', [['08:30', '08:50']]);
    await put(host, 'own-event', [['09:00', '09:30']], bookingId);
    await put(host, 'later', [['11:00', '12:00']]);

    const tallies = await Promise.all([1, 2, 3].map(() => reconcileHostConflicts(tables, host, now)));
    expect(tallies.reduce((sum, t) => sum + t.detected, 0)).toBe(2);
    const listed = await listConflicts(tables, host);
    expect(listed.map((c) => [c.external.externalEventId, c.severity, c.status]).sort()).toEqual([['coffee', 'low', 'open'], ['dentist', 'high', 'open']]);
    expect(listed[0]!.booking).toEqual({ id: bookingId, start: at('09:00'), end: at('09:30') });
    expect(await listConflicts(tables, `host-${randomUUID()}`)).toEqual([]);
    const dentist = listed.find((c) => c.external.externalEventId === 'dentist')!;
    const events = await eventsOf(dentist.conflictId);
    expect(events.map((e) => [e.type, e.version])).toEqual([['calendar.conflict.detected', 1]]);
    expect(events[0]).toMatchObject({ aggregateType: 'calendar', payload: { userId: host, bookingId, severity: 'high', overlap: { start: at('09:15'), end: at('09:30') } }, metadata: { userId: 'system:calendar-sync' } });
    expect(await reconcileHostConflicts(tables, host, now)).toEqual({ detected: 0, resolved: 0 });
  });

  it('resolves when the external event is removed, and when the booking is cancelled or moved', async () => {
    const host = `host-${randomUUID()}`;
    const kept = await confirmed(host, '09:00', '09:30', { before: 0, after: 0 });
    const cancelled = await confirmed(host, '13:00', '13:30', { before: 0, after: 0 });
    const moved = await confirmed(host, '15:00', '15:30', { before: 0, after: 0 });
    await put(host, 'gym', [['09:00', '10:00']]);
    await put(host, 'lunch-run', [['13:00', '14:00']]);
    await put(host, 'school-pickup', [['15:00', '16:00']]);
    expect(await reconcileHostConflicts(tables, host, now)).toEqual({ detected: 3, resolved: 0 });

    const detectedAt = new Map((await listConflicts(tables, host)).map((c) => [c.conflictId, c.detectedAt]));
    expect(detectedAt.size).toBe(3);
    await new Promise((resolve) => setTimeout(resolve, 5)); // so a resolution's time differs from its detection's
    await remove(host, 'gym');
    await run(cancelled, { type: 'Cancel', by: 'organizer', reason: 'conflict' });
    await run(moved, { type: 'Reschedule', by: 'organizer', start: at('17:00'), end: at('17:30') });
    expect(await reconcileHostConflicts(tables, host, now)).toEqual({ detected: 0, resolved: 3 });
    // Each keeps the time it was detected, and says when it was resolved.
    for (const conflict of await listConflicts(tables, host)) {
      expect(conflict.detectedAt).toBe(detectedAt.get(conflict.conflictId));
      expect(conflict.updatedAt > conflict.detectedAt).toBe(true);
    }
    const byBooking = new Map((await listConflicts(tables, host)).map((c) => [c.booking.id, c]));
    expect([kept, cancelled, moved].map((id) => [byBooking.get(id)!.status, byBooking.get(id)!.resolution])).toEqual([
      ['resolved', 'external_removed'],
      ['resolved', 'booking_cancelled'],
      ['resolved', 'booking_moved'],
    ]);
    expect(await listConflicts(tables, host, 'open')).toEqual([]);
    const events = await eventsOf(byBooking.get(cancelled)!.conflictId);
    expect(events.map((e) => e.type)).toEqual(['calendar.conflict.detected', 'calendar.conflict.resolved']);
    // The external event comes back over the kept booking: the same conflict opens again.
    await put(host, 'gym', [['09:00', '10:00']]);
    expect(await reconcileHostConflicts(tables, host, now)).toEqual({ detected: 1, resolved: 0 });
    expect((await eventsOf(byBooking.get(kept)!.conflictId)).map((e) => e.version)).toEqual([1, 2, 3]);
    // Opened again: detected anew.
    const reopened = await listConflicts(tables, host, 'open');
    expect(reopened.map((c) => c.conflictId)).toEqual([byBooking.get(kept)!.conflictId]);
    expect(reopened[0]!.detectedAt > detectedAt.get(reopened[0]!.conflictId)!).toBe(true);
  });
});
