import type * as z from '../../events/zod.ts';
import type { Event, EventMetadata } from '../../events/envelope.ts';
import type { PayloadOf } from '../../events/catalog.ts';
import { eventTypeSettings } from '../../events/scheduling.ts';
import { DomainError, conflict, notFound, ruleViolated, unreachable, type Decider } from '../domain/decider.ts';
import { executeCommand, type AggregateCommand, type ProjectionContext } from '../domain/aggregate-commands.ts';
import type { FieldError } from '../http/problems.ts';
import type { TransactionItem } from '../eventstore/event-store.ts';
import { readOrganization, readSchedule, readTeam, readUser } from '../scheduling/directory.ts';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

// The bodies its routes parse (strict: an unknown field is a 400 naming it) live in requests.ts.
import { updateEventTypeBody } from './requests.ts';
export { createEventTypeBody, updateEventTypeBody } from './requests.ts';
export type EventTypeSettings = z.infer<typeof eventTypeSettings>;
export type { EventTypeView } from './read-model.ts';
import type { EventTypeView } from './read-model.ts';
import { eventTypeKey } from './read-model.ts';
export { eventTypeKey, listEventTypes, readEventType } from './read-model.ts';

export type EventTypeState = { status: 'none' } | ({ status: 'active' } & PayloadOf<'event-type.created'>);
type EventTypeEvent = Event<'event-type.created', PayloadOf<'event-type.created'>> | Event<'event-type.updated', PayloadOf<'event-type.updated'>>;
export type EventTypeCommand = { type: 'Create'; ownerId: string; settings: EventTypeSettings } | { type: 'Update'; changes: z.infer<typeof updateEventTypeBody> };

export const eventTypeDecider: Decider<EventTypeCommand, EventTypeState, EventTypeEvent> = {
  initialState: { status: 'none' },
  decide(command, state) {
    switch (command.type) {
      case 'Create':
        if (state.status !== 'none') throw new DomainError('EventTypeExists', 'event type already exists');
        return [{ type: 'event-type.created', payload: { ...command.settings, ownerId: command.ownerId } }];
      case 'Update': {
        if (state.status === 'none') throw notFound('EventTypeNotFound', 'event type does not exist');
        // Only what really changes is recorded; an update that changes nothing records nothing.
        const changes = Object.fromEntries(
          Object.entries(command.changes).filter(([key, value]) => value !== undefined && JSON.stringify(value) !== JSON.stringify((state as Record<string, unknown>)[key])),
        );
        return Object.keys(changes).length ? [{ type: 'event-type.updated', payload: { changes } }] : [];
      }
      default:
        return unreachable(command);
    }
  },
  evolve(state, event) {
    switch (event.type) {
      case 'event-type.created':
        return { status: 'active', ...event.payload };
      case 'event-type.updated':
        return state.status === 'none' ? state : { ...state, ...event.payload.changes };
      default:
        return unreachable(event);
    }
  },
};


type Tables = { client: DynamoDBDocumentClient; stateTable: string };

/**
 * The references an event type makes must hold for its owner: a schedule of their own, and for a team event
 * type a team whose organization they administer, with a scheduling type.
 */
export async function checkEventTypeReferences(tables: Tables, ownerId: string, settings: EventTypeSettings): Promise<void> {
  const errors: FieldError[] = [];
  if (settings.scheduleId) {
    const schedule = await readSchedule(tables, settings.scheduleId);
    if (!schedule || schedule.ownerId !== ownerId) errors.push({ path: 'scheduleId', message: 'no such schedule of yours' });
  }
  if (settings.teamId) {
    const team = await readTeam(tables, settings.teamId);
    const organization = team && (await readOrganization(tables, team.organizationId));
    if (!team || organization?.members[ownerId] !== 'admin') errors.push({ path: 'teamId', message: 'no such team in an organization you administer' });
    else if (team.memberIds.length === 0) errors.push({ path: 'teamId', message: 'the team has no members to host' });
    if (!settings.schedulingType) errors.push({ path: 'schedulingType', message: 'a team event type is "collective" or "round_robin"' });
  } else if (settings.schedulingType) {
    errors.push({ path: 'schedulingType', message: 'only a team event type has a scheduling type' });
  }
  if (settings.bookingWindow?.type === 'range' && settings.bookingWindow.end < settings.bookingWindow.start) {
    errors.push({ path: 'bookingWindow.end', message: 'must not be before start' });
  }
  if (errors.length) throw ruleViolated('InvalidEventType', errors);
}

type ActiveEventType = Extract<EventTypeState, { status: 'active' }>;
const referenceFields = ['scheduleId', 'teamId', 'schedulingType', 'bookingWindow'] as const;

/**
 * The read model of an event type, written from the decider's state in the events' transaction. `createdAt`
 * sits beside the view and is set only once, so no writer needs an earlier copy of the view to keep it.
 */
function eventTypeWrite(tableName: string, id: string, state: ActiveEventType, now: Date, created: boolean): TransactionItem {
  const { status: _, ...fields } = state;
  const view = { ...fields, id, ...(created ? {} : { updatedAt: now.toISOString() }) };
  return {
    item: {
      Update: {
        TableName: tableName,
        Key: eventTypeKey(id),
        UpdateExpression: 'SET #view = :view, ownerKey = :ownerKey, ownerSort = :ownerSort, createdAt = if_not_exists(createdAt, :now)',
        ExpressionAttributeNames: { '#view': 'view' },
        ExpressionAttributeValues: { ':view': view, ':ownerKey': `OWNER#${state.ownerId}`, ':ownerSort': `EVENTTYPE#${state.slug}#${id}`, ':now': now.toISOString() },
      },
    },
  };
}

/** The event type as its owner sees it, from the decider's state. */
export function presentEventType(id: string, state: EventTypeState, times: { createdAt?: string; updatedAt?: string }): EventTypeView {
  if (state.status === 'none') throw notFound('EventTypeNotFound', 'event type does not exist');
  const { status: _, ...fields } = state;
  return { ...fields, id, createdAt: times.createdAt ?? '', ...(times.updatedAt ? { updatedAt: times.updatedAt } : {}) };
}


/**
 * Every change to an event type takes this path: decide on its stream, check what it refers to, and write the
 * events with the view, the slug claim (and the release of a slug given up) in one transaction.
 */
export function eventTypeCommandSpec(tables: Tables, id: string, command: EventTypeCommand) {
  return {
    decider: eventTypeDecider,
    aggregateType: 'event-type',
    aggregateId: id,
    command,
    // References are checked when they are made: an unrelated change (say, deactivating the event type of a
    // team that has since emptied) must not be refused for what the references have become meanwhile.
    check: async (after: EventTypeState, before: EventTypeState) => {
      if (after.status !== 'active') return;
      const referencesMoved = before.status === 'none' || referenceFields.some((field) => JSON.stringify(before[field]) !== JSON.stringify(after[field]));
      if (referencesMoved) await checkEventTypeReferences(tables, after.ownerId, after);
      // A deleted account offers nothing new: its event types were deactivated with it and stay so.
      if ((before.status === 'none' || (!before.active && after.active)) && (await readUser(tables, after.ownerId))?.status === 'deleted') {
        throw conflict('UserDeleted', 'your account was deleted; create your profile again (POST /users/me) first');
      }
    },
    project: (after: EventTypeState, { before, now }: ProjectionContext<EventTypeState>): TransactionItem[] => {
      if (after.status !== 'active') return [];
      const slugMoved = before.status === 'active' && before.slug !== after.slug;
      return [
        eventTypeWrite(tables.stateTable, id, after, now, before.status === 'none'),
        ...(before.status === 'none' || slugMoved ? [slugClaim(tables.stateTable, after.ownerId, after.slug, id)] : []),
        ...(before.status === 'active' && slugMoved ? [slugRelease(tables.stateTable, before.ownerId, before.slug, id)] : []),
      ];
    },
  } satisfies Omit<AggregateCommand<EventTypeCommand, EventTypeState, EventTypeEvent>, 'metadata'>;
}

/** The same path for the system's own changes (a deleted owner's event types go inactive). */
export function executeEventTypeCommand(tables: Tables & { eventsTable: string }, id: string, command: EventTypeCommand, metadata: Omit<EventMetadata, 'timestamp'>) {
  return executeCommand(tables, { ...eventTypeCommandSpec(tables, id, command), metadata });
}



/** A slug names one event type per owner, as in booking links; the claim on it rides in the same transaction. */
export function slugClaim(tableName: string, ownerId: string, slug: string, eventTypeId: string): TransactionItem {
  return {
    item: {
      Put: {
        TableName: tableName,
        Item: { pk: `SLUG#${ownerId}#${slug}`, sk: 'SLUG', eventTypeId },
        ConditionExpression: 'attribute_not_exists(pk) OR eventTypeId = :id',
        ExpressionAttributeValues: { ':id': eventTypeId },
      },
    },
    onConditionFailed: () => conflict('SlugTaken', `you already have an event type at /${slug}`),
  };
}

/** Gives a slug up, only if this event type still holds it. */
export function slugRelease(tableName: string, ownerId: string, slug: string, eventTypeId: string): TransactionItem {
  return {
    item: {
      Delete: {
        TableName: tableName,
        Key: { pk: `SLUG#${ownerId}#${slug}`, sk: 'SLUG' },
        ConditionExpression: 'attribute_not_exists(pk) OR eventTypeId = :id',
        ExpressionAttributeValues: { ':id': eventTypeId },
      },
    },
  };
}
