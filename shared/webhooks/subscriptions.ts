// A webhook subscription is an aggregate of its own ("webhook"): its organizer makes, changes, rotates and
// deletes it, and the delivery worker disables it after days of failures. Its secrets are not in its events:
// they sit in an item of their own beside the read model, written in the same transaction as the event that
// makes or rotates them, and leave the API only in the answer to that request.
import { randomBytes } from 'node:crypto';
import { GetCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Event } from '../../events/envelope.ts';
import type { PayloadOf } from '../../events/catalog.ts';
import { conflict, notFound, unreachable, type Decider } from '../domain/decider.ts';
import type { TransactionItem } from '../eventstore/event-store.ts';

export type WebhookState =
  | { status: 'none' }
  | ({ status: 'active' | 'disabled' | 'deleted'; disabledReason?: string; secretVersion: number } & PayloadOf<'webhook.created'>);

export type WebhookEvent =
  | Event<'webhook.created', PayloadOf<'webhook.created'>>
  | Event<'webhook.updated', PayloadOf<'webhook.updated'>>
  | Event<'webhook.secret.rotated', PayloadOf<'webhook.secret.rotated'>>
  | Event<'webhook.deleted', PayloadOf<'webhook.deleted'>>
  | Event<'webhook.disabled', PayloadOf<'webhook.disabled'>>;

export type WebhookCommand =
  | { type: 'Create'; subscription: PayloadOf<'webhook.created'> }
  | { type: 'Update'; changes: PayloadOf<'webhook.updated'>['changes'] }
  | { type: 'RotateSecret'; previousExpiresAt: string }
  | { type: 'Delete' }
  | { type: 'Disable'; reason: string; failingSince: string };

const gone = () => notFound('WebhookNotFound', 'webhook does not exist');

export const webhookDecider: Decider<WebhookCommand, WebhookState, WebhookEvent> = {
  initialState: { status: 'none' },
  decide(command, state) {
    if (command.type === 'Create') {
      if (state.status !== 'none') throw conflict('WebhookExists', 'this webhook already exists');
      return [{ type: 'webhook.created', payload: command.subscription }];
    }
    if (state.status === 'none' || state.status === 'deleted') throw gone();
    switch (command.type) {
      case 'Update': {
        const changes = Object.fromEntries(
          Object.entries(command.changes).filter(([key, value]) => {
            if (value === undefined) return false;
            if (key === 'active') return (state.status === 'active') !== value;
            if (key === 'events') return JSON.stringify(state.events ?? null) !== JSON.stringify(value);
            return state[key as 'url' | 'description'] !== value;
          }),
        );
        return Object.keys(changes).length ? [{ type: 'webhook.updated', payload: { changes } }] : [];
      }
      case 'RotateSecret':
        return [{ type: 'webhook.secret.rotated', payload: { previousExpiresAt: command.previousExpiresAt } }];
      case 'Delete':
        return [{ type: 'webhook.deleted', payload: { url: state.url } }];
      case 'Disable':
        // Disabling twice (two deliveries parked at once) records it once.
        if (state.status === 'disabled') return [];
        return [{ type: 'webhook.disabled', payload: { reason: command.reason, failingSince: command.failingSince } }];
      default:
        return unreachable(command);
    }
  },
  evolve(state, event) {
    switch (event.type) {
      case 'webhook.created':
        return { ...event.payload, status: 'active', secretVersion: 1 };
      case 'webhook.updated': {
        if (state.status === 'none') return state;
        const { active, events, ...rest } = event.payload.changes;
        const next = { ...state, ...Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined)) };
        if (events !== undefined) next.events = events ?? undefined;
        if (active !== undefined) {
          next.status = active ? 'active' : 'disabled';
          if (active) delete next.disabledReason;
        }
        return next;
      }
      case 'webhook.secret.rotated':
        return state.status === 'none' ? state : { ...state, secretVersion: state.secretVersion + 1 };
      case 'webhook.deleted':
        return state.status === 'none' ? state : { ...state, status: 'deleted' };
      case 'webhook.disabled':
        return state.status === 'none' ? state : { ...state, status: 'disabled', disabledReason: event.payload.reason };
      default:
        return unreachable(event);
    }
  },
};

type Tables = { client: DynamoDBDocumentClient; stateTable: string };
export type WebhookView = Exclude<WebhookState, { status: 'none' }> & { id: string; createdAt: string; updatedAt: string };
export type StoredSecrets = { current: string; previous?: string; previousExpiresAt?: string };

/** Storage keys of the webhooks slice, in one place. */
export const webhookKeys = {
  subscription: (id: string) => ({ pk: `WEBHOOK#${id}`, sk: 'WEBHOOK' }),
  secrets: (id: string) => ({ pk: `WEBHOOK#${id}`, sk: 'SECRETS' }),
  health: (id: string) => ({ pk: `WEBHOOK#${id}`, sk: 'HEALTH' }),
  delivery: (id: string, eventId: string) => ({ pk: `WEBHOOK#${id}`, sk: `DELIVERY#${eventId}` }),
  ownerOfSubscriptions: (organizerId: string) => `WEBHOOKS#${organizerId}`,
  ownerOfDeliveries: (id: string) => `DELIVERIES#${id}`,
};

/** A Standard Webhooks secret: `whsec_` and 32 random bytes in base64. */
export const newSecret = () => `whsec_${randomBytes(32).toString('base64')}`;

/** The read model and the organizer's index entry; a deleted subscription leaves the index. */
export function subscriptionView(tableName: string, id: string, state: WebhookState, times: { createdAt: string; now: Date }): TransactionItem {
  const view = { ...state, id, createdAt: times.createdAt, updatedAt: times.now.toISOString() } as WebhookView;
  const owner = state.status === 'none' || state.status === 'deleted' ? {} : { ownerKey: webhookKeys.ownerOfSubscriptions(view.organizerId), ownerSort: `${times.createdAt}#${id}` };
  return { item: { Put: { TableName: tableName, Item: { ...webhookKeys.subscription(id), ...owner, view } } } };
}

export function secretsWrite(tableName: string, id: string, secrets: StoredSecrets): TransactionItem {
  return { item: { Put: { TableName: tableName, Item: { ...webhookKeys.secrets(id), secrets } } } };
}

export async function readSubscription(tables: Tables, id: string): Promise<WebhookView | undefined> {
  const { Item } = await tables.client.send(new GetCommand({ TableName: tables.stateTable, Key: webhookKeys.subscription(id), ConsistentRead: true }));
  const view = Item?.view as WebhookView | undefined;
  return view && view.status !== 'deleted' ? view : undefined;
}

/** Whose subscription this is, deleted or not: the organizer hears of every event of their webhooks. */
export async function subscriptionOwner(tables: Tables, id: string): Promise<string | undefined> {
  const { Item } = await tables.client.send(new GetCommand({ TableName: tables.stateTable, Key: webhookKeys.subscription(id), ConsistentRead: true }));
  return (Item?.view as WebhookView | undefined)?.organizerId;
}

export async function readSecrets(tables: Tables, id: string): Promise<StoredSecrets | undefined> {
  const { Item } = await tables.client.send(new GetCommand({ TableName: tables.stateTable, Key: webhookKeys.secrets(id), ConsistentRead: true }));
  return Item?.secrets as StoredSecrets | undefined;
}

/** The secrets that sign now: the current one, and the previous one during its overlap. */
export function signingSecrets(secrets: StoredSecrets, now: Date): string[] {
  const overlap = secrets.previous && secrets.previousExpiresAt && Date.parse(secrets.previousExpiresAt) > now.getTime();
  return overlap ? [secrets.current, secrets.previous!] : [secrets.current];
}

export async function listSubscriptions(tables: Tables, organizerId: string): Promise<WebhookView[]> {
  const views: WebhookView[] = [];
  let ExclusiveStartKey: Record<string, unknown> | undefined;
  do {
    const page = await tables.client.send(
      new QueryCommand({
        TableName: tables.stateTable,
        IndexName: 'byOwner',
        KeyConditionExpression: 'ownerKey = :owner',
        ExpressionAttributeValues: { ':owner': webhookKeys.ownerOfSubscriptions(organizerId) },
        ExclusiveStartKey,
      }),
    );
    views.push(...(page.Items ?? []).map((item) => item.view as WebhookView));
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  return views.filter((view) => view.status !== 'deleted');
}

/** Whether a subscription wants this event: its organizer's booking events, all or the ones it names. */
export function wants(view: Pick<WebhookView, 'status' | 'events'>, eventType: string): boolean {
  return view.status === 'active' && (!view.events || view.events.includes(eventType));
}

/** The subscription as its organizer sees it: never a secret. */
export function presentSubscription(view: WebhookView) {
  return {
    id: view.id,
    url: view.url,
    events: view.events ?? null,
    description: view.description,
    active: view.status === 'active',
    disabledReason: view.disabledReason,
    createdAt: view.createdAt,
    updatedAt: view.updatedAt,
  };
}
