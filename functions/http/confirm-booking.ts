import { bookingCommandRoute } from '../../shared/booking/booking-route.ts';

export const handler = bookingCommandRoute({ allow: ['organizer'], command: () => ({ type: 'Confirm', by: 'organizer' }) });
