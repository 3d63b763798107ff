import type * as z from '../../events/zod.ts';
import type { refundPolicySchema } from '../../events/booking.ts';
import type { Booking } from '../booking/decider.ts';

export type RefundPolicy = z.infer<typeof refundPolicySchema>;

const HOUR = 3_600_000;

/**
 * How much of a completed payment a booking that let its time go gives back, in the payment's minor units.
 * Pure: the moment of the cancellation is passed in. The attendee cancelling is judged by the policy; the
 * organizer cancelling or rejecting, the system expiring it, or its creation failing always refund in full,
 * since the attendee did nothing to lose their money. Without a policy, every cancellation refunds in full.
 */
export function refundAmount(booking: Pick<Booking, 'start' | 'cancellation' | 'paymentTerms' | 'payment'>, cancelledAt: string): number {
  const paid = booking.payment?.state === 'completed' ? booking.payment.amount : 0;
  if (!paid) return 0;
  const policy = booking.paymentTerms?.refundPolicy;
  if (booking.cancellation?.by !== 'attendee' || !policy) return paid;
  const hoursBefore = (Date.parse(booking.start) - Date.parse(cancelledAt)) / HOUR;
  if (hoursBefore >= policy.fullRefundUntilHoursBefore) return paid;
  return Math.floor((paid * policy.laterRefundPercent) / 100);
}
