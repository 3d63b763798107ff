import { z } from 'zod';

/**
 * The envelope every domain event travels in, as the seed defines it. Timestamps are ISO 8601 strings because
 * the envelope crosses JSON boundaries (DynamoDB, EventBridge, WebSocket) where a Date would not survive.
 */
export const eventMetadataSchema = z.object({
  userId: z.string().optional(),
  organizationId: z.string().optional(),
  timestamp: z.iso.datetime({ offset: true }),
  correlationId: z.string().optional(),
  causationId: z.string().optional(),
});
export type EventMetadata = z.infer<typeof eventMetadataSchema>;

export const envelopeSchema = z.object({
  id: z.string().min(1),
  type: z.string().min(1),
  aggregateId: z.string().min(1),
  aggregateType: z.string().min(1),
  version: z.number().int().positive(),
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
