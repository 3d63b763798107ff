// The payment terms a booking is made on: pure, so the booking routes and steps that only need these numbers do
// not pull the Stripe SDK into their bundles.
import type { BookingState } from '../booking/decider.ts';

/** How long an attendee has to pay, from the start of each attempt, when the event type does not say. */
export const DEFAULT_PAYMENT_WINDOW_MINUTES = 30;

export function paymentWindowSeconds(state: BookingState): number {
  const minutes = state.status === 'none' ? DEFAULT_PAYMENT_WINDOW_MINUTES : (state.paymentTerms?.windowMinutes ?? DEFAULT_PAYMENT_WINDOW_MINUTES);
  return minutes * 60;
}
