// The attendee's link in a mail must work as their key, like the manageToken from POST /bookings does. The
// subscriber never sees that token (only its hash is stored), so each mail gets a link token of its own: 24
// random bytes, its hash stored beside the booking, checked by bookingCaller like the manage token. A mail
// sent again (a redelivery after a crash) mints another; both work. Signed tokens would need a key shared
// with every HTTP function; a stored hash needs nothing but the table the booking already lives in.
import { createHash, randomBytes } from 'node:crypto';
import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

type Tables = { client: DynamoDBDocumentClient; stateTable: string };

const hash = (token: string) => createHash('sha256').update(token).digest('base64url');
export const linkTokenKey = (bookingId: string, token: string) => ({ pk: `BOOKING#${bookingId}`, sk: `LINK#${hash(token)}` });

export async function mintLinkToken(tables: Tables, bookingId: string): Promise<string> {
  const token = randomBytes(24).toString('base64url');
  await tables.client.send(new PutCommand({ TableName: tables.stateTable, Item: { ...linkTokenKey(bookingId, token), createdAt: new Date().toISOString() } }));
  return token;
}

/** Whether `token` is a link token of this booking (a lookup by its hash: nothing to compare in application code). */
export async function holdsLinkToken(tables: Tables, bookingId: string, token: string): Promise<boolean> {
  if (!/^[A-Za-z0-9_-]{16,64}$/.test(token)) return false;
  const { Item } = await tables.client.send(new GetCommand({ TableName: tables.stateTable, Key: linkTokenKey(bookingId, token), ConsistentRead: true }));
  return Boolean(Item);
}
