// The iCalendar UID of a booking's event, in a module of its own: the invites (render.ts) and the calendar
// writes and reads (shared/calendars) share it, and a calendar function must not load the mail renderer
// (nodemailer's MIME builder, ical-generator) to name an event.
export const inviteUid = (bookingId: string) => `booking-${bookingId}@booking-engine`;
