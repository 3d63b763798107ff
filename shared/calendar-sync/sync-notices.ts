// A connection whose reads keep failing tells its organizer, once per failure streak: calendar.sync.failing,
// recorded on the connection's sync aggregate (a UUID derived from the connection). The streak is named by the
// last success before it (or the connection's creation), so a redelivered failure, or two workers failing at
// once, record it once, and the next streak (after a success) is reported again. When a streak counts as
// persistent is the sync policy's (sync-policy.ts: 3 failures over at least 15 minutes). needs_reauth has its
// own event (calendar.reauth.required, the calendars slice's).
import type { Event } from '../../events/envelope.ts';
import type { PayloadOf } from '../../events/catalog.ts';
import { clip } from '../../events/primitives.ts';
import type { BookingTables } from '../booking/booking-commands.ts';
import { executeCommand } from '../domain/aggregate-commands.ts';
import { unreachable, type Decider } from '../domain/decider.ts';
import { readConnection, readSyncState } from '../calendars/store.ts';
import { syncAggregateIdOf } from './ids.ts';
import { defaultSyncPolicy, type SyncPolicy } from './sync-policy.ts';

type FailingEvent = Event<'calendar.sync.failing', PayloadOf<'calendar.sync.failing'>>;
type ReportFailing = { type: 'ReportFailing'; payload: PayloadOf<'calendar.sync.failing'> };
type NoticeState = { reportedStreak?: string };

export const syncNoticeDecider: Decider<ReportFailing, NoticeState, FailingEvent> = {
  initialState: {},
  decide(command, state) {
    switch (command.type) {
      case 'ReportFailing':
        return state.reportedStreak === command.payload.failingSince ? [] : [{ type: 'calendar.sync.failing', payload: command.payload }];
      default:
        return unreachable(command.type);
    }
  },
  evolve(_state, event) {
    return { reportedStreak: event.payload.failingSince };
  },
};

/** After a failed read: records calendar.sync.failing when the connection's streak has become persistent. */
export async function reportPersistentFailure(tables: BookingTables, connectionId: string, now = new Date(), policy: SyncPolicy = defaultSyncPolicy()): Promise<boolean> {
  const [sync, view] = await Promise.all([readSyncState(tables, connectionId), readConnection(tables, connectionId)]);
  if (!view || sync.state !== 'failing' || sync.failures < policy.persistentAfterFailures) return false;
  const streakSince = sync.lastSuccessAt ?? view.createdAt;
  if (now.getTime() - Date.parse(streakSince) < policy.persistentAfterSeconds * 1000) return false;
  const { events } = await executeCommand(tables, {
    decider: syncNoticeDecider,
    aggregateType: 'calendar',
    aggregateId: syncAggregateIdOf(connectionId),
    command: {
      type: 'ReportFailing',
      payload: {
        userId: view.organizerId,
        connectionId,
        provider: view.provider,
        failures: Math.min(sync.failures, 1_000_000),
        failingSince: new Date(Date.parse(streakSince)).toISOString(),
        lastError: clip(sync.lastError ?? 'reading busy time failed', 1000),
      },
    },
    metadata: { userId: 'system:calendar-sync', correlationId: connectionId },
    project: () => [],
  });
  return events.length > 0;
}
