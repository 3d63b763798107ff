// A persistent failure streak of a real connection (made through the connection command) is recorded once as
// calendar.sync.failing for its organizer, however often it is reported, and again for the next streak.
import { beforeAll, describe, expect, it } from 'vitest';
import { parseDomainEvent } from '../../events/catalog.ts';
import type { BookingTables } from '../../shared/booking/booking-commands.ts';
import { connectionCommand } from '../../shared/calendars/commands.ts';
import { connectionIdOf, readConnection, writeSyncState } from '../../shared/calendars/store.ts';
import { EventStore } from '../../shared/eventstore/event-store.ts';
import { syncAggregateIdOf } from '../../shared/calendar-sync/ids.ts';
import { reportPersistentFailure } from '../../shared/calendar-sync/sync-notices.ts';
import { createTestTables } from '../support/tables.ts';

let tables: BookingTables;
beforeAll(async () => {
  const test = await createTestTables();
  tables = { client: test.client, eventsTable: test.events, stateTable: test.state };
});

describe('persistent sync failures', () => {
  it('are told to the organizer once per streak, only once the streak is persistent', async () => {
    const organizerId = 'notice-ann';
    const connectionId = connectionIdOf(organizerId, 'caldav', 'ann@dav.example');
    await connectionCommand(tables, connectionId, { userId: organizerId }, {
      aggregateId: connectionId,
      command: { type: 'Connect', organizerId, provider: 'caldav', accountEmail: 'ann@dav.example', calendars: [{ id: 'https://dav.example/ann/cal/', name: 'Cal', primary: true, writable: true }], organizerHasDestination: false },
      createdAt: '2031-01-01T00:00:00.000Z',
      pointer: undefined,
    });
    expect((await readConnection(tables, connectionId))?.organizerId).toBe(organizerId);
    const failing = (failures: number, lastSuccessAt?: string) => writeSyncState(tables, connectionId, { state: 'failing', failures, cursors: {}, lastSuccessAt, lastError: 'CalDAV server answered 503', nextRunAt: '2031-01-02T00:00:00.000Z' });
    const t = (iso: string) => new Date(iso);

    // Two failures, or three within 15 minutes of the last success: not yet.
    await failing(2, '2031-01-01T10:00:00.000Z');
    expect(await reportPersistentFailure(tables, connectionId, t('2031-01-01T11:00:00.000Z'))).toBe(false);
    await failing(3, '2031-01-01T10:00:00.000Z');
    expect(await reportPersistentFailure(tables, connectionId, t('2031-01-01T10:10:00.000Z'))).toBe(false);
    // Persistent: reported once, however often (or concurrently) asked.
    const reports = await Promise.all([1, 2, 3].map(() => reportPersistentFailure(tables, connectionId, t('2031-01-01T10:20:00.000Z'))));
    expect(reports.filter(Boolean)).toHaveLength(1);
    await failing(4, '2031-01-01T10:00:00.000Z');
    expect(await reportPersistentFailure(tables, connectionId, t('2031-01-01T10:40:00.000Z'))).toBe(false);
    // A success, then a new streak: reported again.
    await failing(3, '2031-01-01T12:00:00.000Z');
    expect(await reportPersistentFailure(tables, connectionId, t('2031-01-01T12:30:00.000Z'))).toBe(true);

    const events = (await new EventStore(tables.client, tables.eventsTable).load(syncAggregateIdOf(connectionId))).map((e) => parseDomainEvent(e));
    expect(events.map((e) => [e.type, (e.payload as { failingSince: string }).failingSince])).toEqual([
      ['calendar.sync.failing', '2031-01-01T10:00:00.000Z'],
      ['calendar.sync.failing', '2031-01-01T12:00:00.000Z'],
    ]);
    expect(events[0]!.payload).toMatchObject({ userId: organizerId, connectionId, provider: 'caldav', failures: 3, lastError: 'CalDAV server answered 503' });
    // A connection in another state (ok, needs_reauth) is never reported here.
    await writeSyncState(tables, connectionId, { state: 'needs_reauth', failures: 9, cursors: {} });
    expect(await reportPersistentFailure(tables, connectionId, t('2031-02-01T00:00:00.000Z'))).toBe(false);
  });
});
