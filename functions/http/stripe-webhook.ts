import type Stripe from 'stripe';
import { bookingTables } from '../../shared/config.ts';
import { header, httpHandler, json, type HttpEvent } from '../../shared/http/handler.ts';
import { HttpProblem } from '../../shared/http/problems.ts';
import { claimWebhookEvent, markResumed, readAttempt, releaseWebhookEvent, settleAttempt, type PaymentAttempt } from '../../shared/payments/attempts.ts';
import { LATE_PAYMENT, refundCharge } from '../../shared/payments/payments.ts';
import { heartbeat, resumeWithFailure, resumeWithSuccess, type Resumed } from '../../shared/payments/resume.ts';
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
    throw new HttpProblem(400, '/problems/invalid-signature', 'Invalid Stripe-Signature', 'the Stripe-Signature header does not sign this body with our webhook secret, or is too old');
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

/**
 * Hands the attempt's outcome to the paused workflow, once: a redelivery after a failed answer tries again, a
 * duplicate of a delivered one does not. A token that is gone means the window passed as the payment came in;
 * ExpirePayment then finds the intent paid and refunds it.
 */
async function resume(attempt: PaymentAttempt, send: () => Promise<Resumed>): Promise<void> {
  if (attempt.resumed || !attempt.taskToken) return;
  if ((await send()) === 'resumed') await markResumed(bookingTables(), attempt.paymentId);
}

async function handle(event: Stripe.Event): Promise<void> {
  const tables = bookingTables();
  switch (event.type) {
    case 'payment_intent.succeeded': {
      const intent = event.data.object;
      const { attempt } = await settleAttempt(tables, intent.id, 'succeeded');
      if (!attempt) return; // Not one of ours (another integration on the account).
      if (attempt.state === 'failed' || attempt.state === 'expired') {
        // Paid after its attempt closed (it had failed, or the window passed): it confirms nothing, and the money goes back.
        const { bookingId, amount, stripeAccount } = attempt;
        await refundCharge(tables, { bookingId, paymentId: intent.id, amount, stripeAccount, reason: LATE_PAYMENT }, metadata(event));
        return;
      }
      await resume(attempt, () => resumeWithSuccess(attempt.taskToken!, { paymentId: intent.id }));
      return;
    }
    case 'payment_intent.payment_failed': {
      const intent = event.data.object;
      const error = intent.last_payment_error;
      const failure = { reason: error?.message ?? 'payment failed', code: error?.code, declineCode: error?.decline_code };
      const { attempt } = await settleAttempt(tables, intent.id, 'failed', JSON.parse(JSON.stringify(failure)));
      // A failure after the success (or after the window) finds the attempt settled otherwise: nothing changes.
      if (attempt?.state === 'failed') await resume(attempt, () => resumeWithFailure(attempt.taskToken!, 'PaymentFailed', { paymentId: intent.id, ...attempt.failure }));
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
