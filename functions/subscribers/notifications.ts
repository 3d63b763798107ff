import { SendRawEmailCommand, SESClient } from '@aws-sdk/client-ses';
import type { EventBridgeEvent } from 'aws-lambda';
import { parseDomainEvent } from '../../events/catalog.ts';
import { dynamo, requiredEnv } from '../../shared/aws/clients.ts';
import { notify } from '../../shared/notifications/notify.ts';

let ses: SESClient | undefined;

/** Mails for each booking event (and organizer notices: a disabled webhook, a calendar to reconnect), once per event and recipient, through SES. */
export async function handler(busEvent: EventBridgeEvent<string, unknown>): Promise<void> {
  ses ??= new SESClient({});
  const configurationSet = process.env.SES_CONFIGURATION_SET;
  await notify(
    {
      client: dynamo(),
      eventsTable: requiredEnv('EVENTS_TABLE'),
      stateTable: requiredEnv('STATE_TABLE'),
      from: requiredEnv('MAIL_FROM'),
      publicApiUrl: requiredEnv('PUBLIC_API_URL'),
      // The configuration set is where bounces and complaints put an address on the suppression list.
      send: async (raw) => void (await ses!.send(new SendRawEmailCommand({ RawMessage: { Data: raw }, ConfigurationSetName: configurationSet }))),
    },
    parseDomainEvent(busEvent.detail),
  );
}
