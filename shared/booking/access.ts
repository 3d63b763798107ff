import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { optionalOrganizer, type Identity } from '../auth/identity.ts';
import { header, type HttpEvent } from '../http/handler.ts';
import { problems } from '../http/problems.ts';
import type { BookingView, StoredBooking } from './booking-commands.ts';
import type { Actor } from './decider.ts';
import { bookingTables } from '../config.ts';
import { holdsLinkToken } from '../notifications/links.ts';

/** The attendee's secret for managing their booking; only its hash is stored. */
export function newManageToken(): { token: string; hash: string } {
  const token = randomBytes(24).toString('base64url');
  return { token, hash: hashToken(token) };
}

const hashToken = (token: string) => createHash('sha256').update(token).digest('base64url');

export function isBookingUser(booking: BookingView, userId: string): boolean {
  return booking.organizerId === userId || booking.hostIds.includes(userId);
}

export type BookingCaller = { actor: Extract<Actor, 'organizer' | 'attendee'>; identity?: Identity };

/**
 * Who is asking about a booking: one of its organizer or hosts (bearer token), or its attendee (the booking
 * token from the confirmation, as `X-Booking-Token` or `?token=`). Anyone else is told it does not exist, so
 * ids cannot be probed.
 */
export async function bookingCaller(event: HttpEvent, stored: StoredBooking | undefined): Promise<BookingCaller> {
  const identity = await optionalOrganizer(event);
  const token = header(event, 'x-booking-token') ?? event.queryStringParameters?.token;
  if (!identity && !token) throw problems.unauthorized('send an organizer bearer token or the booking token');
  if (!stored) throw problems.notFound('booking');
  if (identity) {
    if (isBookingUser(stored.booking, identity.userId)) return { actor: 'organizer', identity };
    throw problems.notFound('booking');
  }
  if (holdsManageToken(stored, token!)) return { actor: 'attendee' };
  // The link in the attendee's mails carries a token of its own (shared/notifications/links.ts).
  if (await holdsLinkToken(bookingTables(), stored.booking.id, token!)) return { actor: 'attendee' };
  throw problems.notFound('booking');
}

/** Whether `token` is the booking's attendee token, compared in constant time against its stored hash. */
export function holdsManageToken(stored: StoredBooking, token: string): boolean {
  const expected = Buffer.from(stored.manageTokenHash ?? '');
  const given = Buffer.from(hashToken(token));
  return expected.length === given.length && timingSafeEqual(expected, given);
}

/** The connection identity under which an attendee watches one booking live. */
export const attendeeListener = (bookingId: string) => `attendee:${bookingId}`;
