// The AsyncAPI document of the live messages and webhooks (GET /openapi.json?asyncapi): every catalog event is
// a message of the live channel, every booking event one of the webhooks channel, and each event's sample
// (events/samples) validates against both of its message payloads; a sample of another type does not.
import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { eventCatalog, eventTypeNames } from '../../events/catalog.ts';
import { asyncApiDocument } from '../../shared/http/openapi.ts';

const document = asyncApiDocument() as any;
const ajv = new Ajv2020({ strict: false, allErrors: true });
(addFormats as unknown as (a: Ajv2020) => void)(ajv);
const sample = (type: string) => JSON.parse(readFileSync(new URL(`../../events/samples/${type}.json`, import.meta.url), 'utf8'));
const bookingTypes = eventTypeNames.filter((type) => eventCatalog[type].aggregateType === 'booking');

describe('AsyncAPI document', () => {
  it('lists every catalog event on the live channel and every booking event on the webhooks channel', () => {
    expect(document.asyncapi).toBe('3.0.0');
    const live = Object.keys(document.channels.live.messages);
    expect(live.sort()).toEqual([...eventTypeNames.map((t) => t.replaceAll('.', '_')), 'reset', 'resumed'].sort());
    expect(Object.keys(document.channels.webhooks.messages).sort()).toEqual(bookingTypes.map((t) => `webhook_${t.replaceAll('.', '_')}`).sort());
    for (const channel of ['live', 'webhooks']) {
      for (const { $ref } of Object.values(document.channels[channel].messages) as Array<{ $ref: string }>) expect(document.components.messages[$ref.split('/').at(-1)!], $ref).toBeDefined();
    }
  });

  it.each(eventTypeNames)('%s: its sample validates as the live message (with a position) and, for a booking event, as the webhook body', (type) => {
    const event = sample(type);
    const live = ajv.compile(document.components.messages[type.replaceAll('.', '_')].payload);
    expect(live({ type: 'event', position: 1, data: event }), ajv.errorsText(live.errors)).toBe(true);
    expect(live({ type: 'event', data: event })).toBe(false); // a live message without its position is not one
    const other = eventTypeNames.find((name) => name !== type)!;
    expect(live({ type: 'event', position: 1, data: sample(other) })).toBe(false);
    if (eventCatalog[type].aggregateType !== 'booking') return;
    const webhook = ajv.compile(document.components.messages[`webhook_${type.replaceAll('.', '_')}`].payload);
    expect(webhook(event), ajv.errorsText(webhook.errors)).toBe(true);
  });
});
