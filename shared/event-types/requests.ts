import * as z from '../../events/zod.ts';
import { eventTypeSettings, eventTypeUpdated } from '../../events/scheduling.ts';

// Strict: a field we do not know (a typo, a field of another version) is a 400 naming it, not silently dropped.
// Apart from event-types.ts, so the contract (and the OpenAPI function) can say them without its DynamoDB code.
export const createEventTypeBody = z.strictObject(eventTypeSettings.shape);
export const updateEventTypeBody = z.strictObject(eventTypeUpdated.shape.changes.shape);
