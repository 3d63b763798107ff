import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import * as z from '../../events/zod.ts';
import { organizer } from '../../shared/auth/identity.ts';
import type { BookingView } from '../../shared/booking/booking-commands.ts';
import { presentBooking } from '../../shared/booking/presenter.ts';
import { bookingTables } from '../../shared/config.ts';
import { openCursor, sealCursor } from '../../shared/http/cursor.ts';
import { httpHandler, json } from '../../shared/http/handler.ts';
import { problems } from '../../shared/http/problems.ts';
import { boundOf, parseQuery } from '../../shared/http/query.ts';
import { listBookingsQuery } from '../../shared/booking/requests.ts';

const query = listBookingsQuery;

/** A position in the byOwner index: the table's key and the index's key of the last booking on a page. */
const position = z.object({ pk: z.string().check(z.maxLength(300)), sk: z.string().check(z.maxLength(300)), ownerKey: z.string().check(z.maxLength(300)), ownerSort: z.string().check(z.maxLength(300)) });
type Position = z.infer<typeof position>;

/** A page is filled from at most this many reads; a sparse filter then ends the page early, with a cursor. */
const MAX_READS = 5;

/** The bookings the caller organizes or hosts, by start time, paged with an opaque cursor. */
export const handler = httpHandler(async (event) => {
  const { userId } = organizer(event);
  const { status, limit, cursor, ...rest } = parseQuery(event, query);
  const from = rest.from === undefined ? undefined : new Date(boundOf(rest.from, rest.timeZone, 'start')).toISOString();
  const tables = bookingTables();
  const ownerKey = `VIEWER#${userId}`;
  // A cursor belongs to one caller and one query; the page size may change between pages.
  const binding = ['bookings', userId, status ?? null, from ?? null];
  let startKey: Position | undefined;
  if (cursor !== undefined) {
    const opened = position.safeParse(await openCursor(tables, binding, cursor));
    if (!opened.success || opened.data.ownerKey !== ownerKey) {
      throw problems.invalidBody([{ path: 'query.cursor', message: 'is not a cursor this API gave you for this query' }]);
    }
    startKey = opened.data;
  }
  const items: Position[] = [];
  // Read one more than the page holds: whether it exists says whether there is a next page at all.
  for (let reads = 0; reads < MAX_READS && items.length <= limit; reads++) {
    const page = await tables.client.send(
      new QueryCommand({
        TableName: tables.stateTable,
        IndexName: 'byOwner',
        KeyConditionExpression: from ? 'ownerKey = :owner AND ownerSort >= :from' : 'ownerKey = :owner',
        FilterExpression: status ? '#booking.#status = :status' : undefined,
        ExpressionAttributeNames: status ? { '#booking': 'booking', '#status': 'status' } : undefined,
        ExpressionAttributeValues: { ':owner': ownerKey, ...(from ? { ':from': from } : {}), ...(status ? { ':status': status } : {}) },
        Limit: limit + 1 - items.length,
        ExclusiveStartKey: startKey,
      }),
    );
    items.push(...((page.Items ?? []) as Position[]));
    startKey = page.LastEvaluatedKey as Position | undefined;
    if (!startKey) break;
  }
  const shown = items.slice(0, limit);
  const last = shown.at(-1);
  // More exists when the extra item came back, or when the reads ran out before the index did.
  const next = items.length > limit && last ? keyOf(last) : startKey;
  const bookings = shown.map((item) => presentBooking((item as Position & { booking: BookingView }).booking));
  return json(200, { bookings, nextCursor: next ? await sealCursor(tables, binding, next) : undefined });
});

const keyOf = ({ pk, sk, ownerKey, ownerSort }: Position): Position => ({ pk, sk, ownerKey, ownerSort });
