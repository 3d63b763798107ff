// The webhook routes that only read (the subscriptions, the delivery log): apart from the commands in
// webhooks.ts, so that the read-only reports function (reports.ts) carries neither the SQS client nor the
// sender, which it never calls.
import { organizer, type Identity } from '../../shared/auth/identity.ts';
import { bookingTables } from '../../shared/config.ts';
import { httpHandler, json, pathParameter, type HttpEvent } from '../../shared/http/handler.ts';
import { problems } from '../../shared/http/problems.ts';
import { listDeliveries, presentDelivery } from '../../shared/webhooks/delivery.ts';
import { deliveriesQuery } from '../../shared/webhooks/requests.ts';
import { listSubscriptions, presentSubscription, readSubscription, type WebhookView } from '../../shared/webhooks/subscriptions.ts';

/** The caller's own subscription, or a 404 like any stranger's. */
export async function mine(event: HttpEvent, me: Identity): Promise<WebhookView> {
  const view = await readSubscription(bookingTables(), pathParameter(event, 'id'));
  if (!view || view.organizerId !== me.userId) throw problems.notFound('webhook');
  return view;
}

export const list = httpHandler(async (event) => {
  const me = organizer(event);
  const views = await listSubscriptions(bookingTables(), me.userId);
  return json(200, { webhooks: views.map(presentSubscription) });
});

export const get = httpHandler(async (event) => json(200, presentSubscription(await mine(event, organizer(event)))));

/** The delivery log, newest event first: each attempt's time, status and latency, and when the next is due. */
export const deliveries = httpHandler(async (event) => {
  const view = await mine(event, organizer(event));
  const query = deliveriesQuery.safeParse(event.queryStringParameters ?? {});
  if (!query.success) throw problems.invalidBody(query.error.issues.map((i) => ({ path: `query.${i.path.join('.')}`, message: i.message })));
  let page;
  try {
    page = await listDeliveries(bookingTables(), view.id, query.data.limit, query.data.cursor);
  } catch (error) {
    if (query.data.cursor && (error instanceof SyntaxError || (error as Error).name === 'ValidationException')) throw problems.invalidBody([{ path: 'query.cursor', message: 'is not a cursor this API gave out' }]);
    throw error;
  }
  return json(200, { deliveries: page.deliveries.map(presentDelivery), next: page.next });
});
