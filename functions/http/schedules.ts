import { randomUUID } from 'node:crypto';
import { organizer } from '../../shared/auth/identity.ts';
import { bookingTables } from '../../shared/config.ts';
import { putView } from '../../shared/domain/aggregate-commands.ts';
import { definedOnly, notFound } from '../../shared/domain/decider.ts';
import { httpHandler, json, parseJsonBody, pathParameter } from '../../shared/http/handler.ts';
import { respondToCommand } from '../../shared/http/command-response.ts';
import { problems } from '../../shared/http/problems.ts';
import { clearDefaultSchedule, keys, listOwned, pointDefaultSchedule, readDefaultScheduleId, readSchedule, type Active } from '../../shared/scheduling/directory.ts';
import { scheduleDecider, type ScheduleState } from '../../shared/scheduling/schedules.ts';
import { createScheduleBody, updateScheduleBody } from '../../shared/scheduling/schedule-requests.ts';

// Strict: an unknown field (a typo) is a 400 naming it rather than silently ignored.
const body = createScheduleBody;
const changesBody = updateScheduleBody;

/** The stored view, with `isDefault` as the owner's default pointer says (the one truth about it). */
const withDefault = (schedule: Active<ScheduleState>, defaultId: string | undefined) => ({ ...schedule, isDefault: schedule.id === defaultId });

/** A user's first schedule becomes their default unless they say otherwise; a later one only when asked. */
export const create = httpHandler(async (event) => {
  const me = organizer(event);
  const { isDefault: asked, ...definition } = parseJsonBody(event, body);
  const tables = bookingTables();
  const isDefault = asked ?? (await listOwned(tables, `OWNER#${me.userId}`, 'SCHEDULE#')).length === 0;
  const id = randomUUID();
  return respondToCommand(event, me, {
    decider: scheduleDecider,
    aggregateType: 'schedule',
    aggregateId: id,
    command: { type: 'Create', ownerId: me.userId, isDefault, definition },
    status: 201,
    location: `/schedules/${id}`,
    present: (state) => ({ ...state, id, isDefault }),
    project: (state) => [scheduleView(tables.stateTable, me.userId, id, state), ...(isDefault ? [pointDefaultSchedule(tables.stateTable, me.userId, id)] : [])],
  });
});

const scheduleView = (tableName: string, ownerId: string, id: string, state: ScheduleState) =>
  putView(tableName, keys.schedule(id), { ...state, id }, { ownerKey: `OWNER#${ownerId}`, ownerSort: `SCHEDULE#${id}` });

export const get = httpHandler(async (event) => {
  const me = organizer(event);
  const tables = bookingTables();
  const [schedule, defaultId] = await Promise.all([readSchedule(tables, pathParameter(event, 'id')), readDefaultScheduleId(tables, me.userId)]);
  if (!schedule || schedule.ownerId !== me.userId) throw problems.notFound('schedule');
  return json(200, withDefault(schedule, defaultId));
});

export const list = httpHandler(async (event) => {
  const me = organizer(event);
  const tables = bookingTables();
  const [schedules, defaultId] = await Promise.all([listOwned<Active<ScheduleState>>(tables, `OWNER#${me.userId}`, 'SCHEDULE#'), readDefaultScheduleId(tables, me.userId)]);
  return json(200, { schedules: schedules.map((schedule) => withDefault(schedule, defaultId)) });
});

/**
 * The owner changes a schedule; only the fields sent change (a list sent replaces the old one).
 * `isDefault: true` makes it the default, which switches the previous default off; `false` on the default
 * leaves the owner with none (weekdays 09:00-17:00 in their profile's zone).
 */
export const update = httpHandler(async (event) => {
  const me = organizer(event);
  const id = pathParameter(event, 'id');
  const asked = parseJsonBody(event, changesBody);
  const tables = bookingTables();
  const defaultId = await readDefaultScheduleId(tables, me.userId);
  // Making the default the default, or switching off what is not on, changes nothing.
  const changes = asked.isDefault === (defaultId === id) ? { ...asked, isDefault: undefined } : asked;
  return respondToCommand(event, me, {
    decider: scheduleDecider,
    aggregateType: 'schedule',
    aggregateId: id,
    command: { type: 'Update', changes: definedOnly(changes) },
    authorize: (state) => {
      if (state.status === 'none' || state.ownerId !== me.userId) throw notFound('ScheduleNotFound', 'schedule does not exist');
    },
    status: 200,
    present: (state) => ({ ...state, id, isDefault: changes.isDefault ?? defaultId === id }),
    unchanged: async () => withDefault((await readSchedule(tables, id))!, await readDefaultScheduleId(tables, me.userId)),
    project: (state) => [
      scheduleView(tables.stateTable, me.userId, id, state),
      ...(changes.isDefault === true ? [pointDefaultSchedule(tables.stateTable, me.userId, id)] : []),
      ...(changes.isDefault === false ? [clearDefaultSchedule(tables.stateTable, me.userId, id)] : []),
    ],
  });
});
