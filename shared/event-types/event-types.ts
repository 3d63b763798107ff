import { z } from 'zod';
import type { Event } from '../../events/envelope.ts';
import type { PayloadOf } from '../../events/catalog.ts';
import { eventTypeSettings, eventTypeUpdated } from '../../events/scheduling.ts';
import { DomainError, notFound, unreachable, type Decider } from '../domain/decider.ts';
import type { Identity } from '../auth/identity.ts';
import { problems, type FieldError } from '../http/problems.ts';
import type { TransactionItem } from '../eventstore/event-store.ts';
import { readOrganization, readSchedule, readTeam } from '../scheduling/directory.ts';
import { GetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

// Strict: a field we do not know (a typo, a field of another version) is a 400 naming it, not silently dropped.
export const createEventTypeBody = z.strictObject(eventTypeSettings.shape);
export const updateEventTypeBody = z.strictObject(eventTypeUpdated.shape.changes.shape);
export type EventTypeSettings = z.infer<typeof eventTypeSettings>;
export type EventTypeView = EventTypeSettings & { id: string; ownerId: string; createdAt: string; updatedAt?: string };

type EventTypeState = { status: 'none' } | ({ status: 'active' } & PayloadOf<'event-type.created'>);
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

export const eventTypeKey = (id: string) => ({ pk: `EVENTTYPE#${id}`, sk: 'EVENTTYPE' });

type Tables = { client: DynamoDBDocumentClient; stateTable: string };

/**
 * The references an event type makes must hold for its owner: a schedule of their own, and for a team event
 * type a team whose organization they administer, with a scheduling type.
 */
export async function checkEventTypeReferences(tables: Tables, owner: Identity, settings: EventTypeSettings): Promise<void> {
  const errors: FieldError[] = [];
  if (settings.scheduleId) {
    const schedule = await readSchedule(tables, settings.scheduleId);
    if (!schedule || schedule.ownerId !== owner.userId) errors.push({ path: 'scheduleId', message: 'no such schedule of yours' });
  }
  if (settings.teamId) {
    const team = await readTeam(tables, settings.teamId);
    const organization = team && (await readOrganization(tables, team.organizationId));
    if (!team || organization?.members[owner.userId] !== 'admin') errors.push({ path: 'teamId', message: 'no such team in an organization you administer' });
    else if (team.memberIds.length === 0) errors.push({ path: 'teamId', message: 'the team has no members to host' });
    if (!settings.schedulingType) errors.push({ path: 'schedulingType', message: 'a team event type is "collective" or "round_robin"' });
  } else if (settings.schedulingType) {
    errors.push({ path: 'schedulingType', message: 'only a team event type has a scheduling type' });
  }
  if (settings.bookingWindow?.type === 'range' && settings.bookingWindow.end < settings.bookingWindow.start) {
    errors.push({ path: 'bookingWindow.end', message: 'must not be before start' });
  }
  if (errors.length) throw problems.unprocessable(errors);
}

/** The read-model item of an event type, listed under its owner by slug. */
export function eventTypeItem(tableName: string, view: EventTypeView) {
  return {
    item: {
      Put: {
        TableName: tableName,
        Item: { ...eventTypeKey(view.id), ownerKey: `OWNER#${view.ownerId}`, ownerSort: `EVENTTYPE#${view.slug}#${view.id}`, view },
      },
    },
  };
}

export async function readEventType(tables: Tables, id: string): Promise<EventTypeView | undefined> {
  const { Item } = await tables.client.send(new GetCommand({ TableName: tables.stateTable, Key: eventTypeKey(id) }));
  return Item?.view as EventTypeView | undefined;
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
    onConditionFailed: () => problems.conflict('slug-taken', 'That slug is taken', `you already have an event type at /${slug}`),
  };
}

export function slugRelease(tableName: string, ownerId: string, slug: string): TransactionItem {
  return { item: { Delete: { TableName: tableName, Key: { pk: `SLUG#${ownerId}#${slug}`, sk: 'SLUG' } } } };
}
