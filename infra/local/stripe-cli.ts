// `npm run --silent stripe -- succeed <bookingId>` / `fail <bookingId> [decline_code]`: the attendee pays (or
// their card is declined) against the local Stripe of a running `npm start`, which then sends the signed
// webhook to the stack as Stripe would. `list [bookingId]` shows the PaymentIntents.
import { defaultDataDir, readStackFile } from './stack-file.ts';

const usage = 'usage: npm run --silent stripe -- succeed <bookingId> | fail <bookingId> [decline_code] | list [bookingId]';
const [command, bookingId, declineCode] = process.argv.slice(2);
const stripeUrl = readStackFile(defaultDataDir)?.stripeUrl ?? `http://127.0.0.1:${process.env.STRIPE_PORT ?? 3004}`;

async function call(path: string, init?: RequestInit): Promise<any> {
  let response: Response;
  try {
    response = await fetch(stripeUrl + path, init);
  } catch (error) {
    console.error(`could not reach the local Stripe at ${stripeUrl} (is npm start running?): ${(error as Error).message}`);
    process.exit(1);
  }
  const body = (await response.json()) as any;
  if (!response.ok) {
    console.error(body.error?.message ?? JSON.stringify(body));
    process.exit(1);
  }
  return body;
}

if ((command === 'succeed' || command === 'fail') && bookingId) {
  const result = await call('/_local/settle', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ bookingId, outcome: command, declineCode }),
  });
  const { paymentIntent, event, delivery } = result;
  const outcome = command === 'succeed' ? `paid ${paymentIntent.amount} ${paymentIntent.currency}` : `declined (${paymentIntent.last_payment_error.decline_code})`;
  console.log(`${paymentIntent.id} ${outcome}; webhook ${event.type} ${event.id} -> ${delivery.status ?? 'not delivered'} after ${delivery.attempts} attempt(s)`);
  if (!delivery.status || delivery.status >= 300) process.exit(1);
} else if (command === 'list') {
  const { data } = await call(`/_local/payment_intents${bookingId ? `?bookingId=${encodeURIComponent(bookingId)}` : ''}`);
  for (const intent of data) console.log(`${intent.id}  ${intent.status.padEnd(24)} ${intent.amount} ${intent.currency}  booking ${intent.metadata.bookingId} attempt ${intent.metadata.attempt}`);
  if (!data.length) console.log('no PaymentIntents');
} else {
  console.error(usage);
  process.exit(2);
}
