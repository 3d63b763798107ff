import { bookingCaller } from '../../shared/booking/access.ts';
import { readBooking } from '../../shared/booking/booking-commands.ts';
import { presentBooking } from '../../shared/booking/presenter.ts';
import { bookingTables } from '../../shared/config.ts';
import { httpHandler, json, pathParameter } from '../../shared/http/handler.ts';

export const handler = httpHandler(async (event) => {
  const stored = await readBooking(bookingTables(), pathParameter(event, 'id'));
  await bookingCaller(event, stored);
  return json(200, presentBooking(stored!.booking));
});
