import * as z from './zod.ts';
import { id, instant, token } from './primitives.ts';

/**
 * The envelope every domain event travels in, as the seed defines it. Timestamps are ISO 8601 strings because
 * the envelope crosses JSON boundaries (DynamoDB, EventBridge, WebSocket) where a Date would not survive.
 */
export const eventMetadataSchema = z.object({
  userId: z.optional(id),
  organizationId: z.optional(id),
  timestamp: instant,
  // A caller's X-Correlation-Id travels here, so it is bounded like any other input.
  correlationId: z.optional(token(128)),
  causationId: z.optional(id),
});
export type EventMetadata = z.infer<typeof eventMetadataSchema>;

export const envelopeSchema = z.object({
  id,
  type: z.string().check(z.minLength(1), z.maxLength(100)),
  aggregateId: id,
  aggregateType: z.string().check(z.minLength(1), z.maxLength(50)),
  version: z.int().check(z.positive()),
  payload: z.unknown(),
  metadata: eventMetadataSchema,
});

/** An event before the store has given it an id, a version and metadata: what a decider returns. */
export type Event<Type extends string = string, Payload = unknown> = { type: Type; payload: Payload };

/** An event as it is stored and published. */
export type DomainEvent<Type extends string = string, Payload = unknown> = Event<Type, Payload> & {
  id: string;
  aggregateId: string;
  aggregateType: string;
  version: number;
  metadata: EventMetadata;
};

/** EventBridge `source` of every event this system publishes. */
export const EVENT_SOURCE = 'booking-engine';
