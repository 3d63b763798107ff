import { describe, expect, it } from 'vitest';
import { fold } from '../../shared/domain/decider.ts';
import { bookingDecider, type Booking, type BookingEvent, type BookingRequest } from '../../shared/booking/decider.ts';
import { presentBooking } from '../../shared/booking/presenter.ts';

const start = '2030-01-07T09:00:00.000Z';
const end = '2030-01-07T09:30:00.000Z';
const request = (changes: Partial<BookingRequest> = {}): BookingEvent => ({
  type: 'booking.requested',
  payload: {
    eventTypeId: 'et-1',
    organizerId: 'org-1',
    hostIds: ['org-1'],
    title: 'Intro call',
    start,
    end,
    bufferBeforeMinutes: 0,
    bufferAfterMinutes: 0,
    attendee: { name: 'Ada', email: 'ada@example.com', timeZone: 'UTC' },
    requiresConfirmation: false,
    ...changes,
  },
  metadata: { timestamp: '2030-01-01T08:00:00.000Z' },
});
const created = (awaiting: 'nothing' | 'confirmation' | 'payment'): BookingEvent => ({
  type: 'booking.created',
  payload: { eventTypeId: 'et-1', organizerId: 'org-1', hostIds: ['org-1'], start, end, awaiting },
});
const confirmed: BookingEvent = { type: 'booking.confirmed', payload: { confirmedBy: 'organizer', start, end } };
const needsConfirmation = request({ requiresConfirmation: true });

const awaitingShown = (history: BookingEvent[]) => {
  const booking = fold(bookingDecider, history) as Booking;
  return presentBooking({ ...booking, id: 'b-1', version: history.length, updatedAt: start }).awaiting;
};

describe('the booking as the API shows it', () => {
  it('says what the booking still waits for', () => {
    expect(awaitingShown([needsConfirmation, created('confirmation')])).toBe('confirmation');
    expect(awaitingShown([request({ price: { amount: 5000, currency: 'EUR' } }), created('payment')])).toBe('payment');
  });

  it('shows no awaiting once the request is confirmed, rejected or cancelled, nor before the workflow has checked it', () => {
    expect(awaitingShown([needsConfirmation, created('confirmation'), confirmed])).toBeUndefined();
    expect(awaitingShown([needsConfirmation, created('confirmation'), { type: 'booking.rejected', payload: {} }])).toBeUndefined();
    expect(awaitingShown([needsConfirmation, created('confirmation'), { type: 'booking.cancelled', payload: { cancelledBy: 'attendee' } }])).toBeUndefined();
    expect(awaitingShown([request(), created('nothing'), { ...confirmed, payload: { ...confirmed.payload, confirmedBy: 'system' } }])).toBeUndefined();
    expect(awaitingShown([needsConfirmation])).toBeUndefined();
  });
});
