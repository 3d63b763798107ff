import type Stripe from 'stripe';
import { bookingTables } from '../../shared/config.ts';
import { header, httpHandler, json, type HttpEvent } from '../../shared/http/handler.ts';
import { claimWebhookEvent, readAttempt, releaseWebhookEvent, settleAttempt } from '../../shared/payments/attempts.ts';
import { refundCharge } from '../../shared/payments/payments.ts';
import { heartbeat, resumeWithFailure, resumeWithSuccess } from '../../shared/payments/resume.ts';
import { isSignatureError, verifyWebhook } from '../../shared/payments/stripe.ts';

const metadata = (event: Stripe.Event) => ({ userId: 'system:stripe-webhook', correlationId: event.id });

/**
 * POST /webhooks/stripe. Verifies the signature against the raw body, claims the event id once, settles the
 * attempt it is about (only an open attempt settles, so duplicates and a failure after a success change
 * nothing) and resumes the paused workflow, which does the slow work. Events it does not handle are
 * acknowledged, so Stripe stops sending them.
 */
export const handler = httpHandler(async (request: HttpEvent) => {
  const raw = Buffer.from(request.body ?? '', request.isBase64Encoded ? 'base64' : 'utf8');
  let event: Stripe.Event;
  try {
    event = await verifyWebhook(raw, header(request, 'stripe-signature') ?? '');
  } catch (error) {
    if (!isSignatureError(error)) throw error;
    return json(400, { error: 'invalid Stripe-Signature' });
  }
  const tables = bookingTables();
  if (!(await claimWebhookEvent(tables, event.id, new Date()))) return json(200, { received: true, duplicate: true });
  try {
    await handle(event);
  } catch (error) {
    // Not handled after all: Stripe's redelivery must find the event unclaimed.
    await releaseWebhookEvent(tables, event.id);
    throw error;
  }
  return json(200, { received: true });
});

async function handle(event: Stripe.Event): Promise<void> {
  const tables = bookingTables();
  switch (event.type) {
    case 'payment_intent.succeeded': {
      const intent = event.data.object;
      const { settled, attempt } = await settleAttempt(tables, intent.id, 'succeeded');
      if (!attempt) return; // Not one of ours (another integration on the account).
      const resumed = settled && attempt.taskToken ? await resumeWithSuccess(attempt.taskToken, { paymentId: intent.id }) : 'gone';
      // Paid after its attempt closed (the window passed, or it had failed): nothing is confirmed by it, and the
      // money goes back. A duplicate of an earlier success is not late: it finds the attempt already succeeded.
      const late = settled ? resumed === 'gone' : attempt.state !== 'succeeded';
      if (late) {
        const { bookingId, amount, stripeAccount } = attempt;
        await refundCharge(tables, { bookingId, paymentId: intent.id, amount, stripeAccount, reason: 'late payment' }, metadata(event));
      }
      return;
    }
    case 'payment_intent.payment_failed': {
      const intent = event.data.object;
      const error = intent.last_payment_error;
      const failure = { reason: error?.message ?? 'payment failed', code: error?.code, declineCode: error?.decline_code };
      const { settled, attempt } = await settleAttempt(tables, intent.id, 'failed', JSON.parse(JSON.stringify(failure)));
      if (settled && attempt?.taskToken) await resumeWithFailure(attempt.taskToken, 'PaymentFailed', { paymentId: intent.id, ...failure });
      return;
    }
    case 'payment_intent.processing':
    case 'payment_intent.requires_action': {
      // The attendee is paying: the workflow's task hears that its token is alive.
      const attempt = await readAttempt(tables, event.data.object.id);
      if (attempt?.state === 'open' && attempt.taskToken) await heartbeat(attempt.taskToken);
      return;
    }
    default:
      return;
  }
}
