import * as z from './zod.ts';
import { eventCatalog, eventTypeNames } from './catalog.ts';
import { envelopeSchema, eventMetadataSchema } from './envelope.ts';

/** File name to file text of the JSON Schema of every event type: the envelope with that type's payload. */
export function jsonSchemaFiles(): Record<string, string> {
  const files: Record<string, string> = {};
  for (const type of eventTypeNames) {
    const entry = eventCatalog[type];
    const schema = z.object({
      id: envelopeSchema.shape.id,
      type: z.literal(type),
      aggregateId: envelopeSchema.shape.aggregateId,
      aggregateType: z.literal(entry.aggregateType),
      version: z.int().check(z.positive()),
      payload: entry.payload,
      metadata: eventMetadataSchema,
    });
    const json = { $id: `${type}.v${entry.schemaVersion}`, title: type, ...z.toJSONSchema(schema, { io: 'input' }) };
    files[`${type}.json`] = JSON.stringify(json, null, 2) + '\n';
  }
  return files;
}
