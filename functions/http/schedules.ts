import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { scheduleDefinition, scheduleUpdated } from '../../events/scheduling.ts';
import { organizer } from '../../shared/auth/identity.ts';
import { bookingTables } from '../../shared/config.ts';
import { putView } from '../../shared/domain/aggregate-commands.ts';
import { httpHandler, json, parseJsonBody, pathParameter } from '../../shared/http/handler.ts';
import { respondToCommand } from '../../shared/http/command-response.ts';
import { problems } from '../../shared/http/problems.ts';
import { keys, listOwned, pointDefaultSchedule, readSchedule } from '../../shared/scheduling/directory.ts';
import { scheduleDecider, type ScheduleState } from '../../shared/scheduling/schedules.ts';

// Strict: an unknown field (a typo) is a 400 naming it rather than silently ignored.
const body = z.strictObject({ ...scheduleDefinition.shape, isDefault: z.boolean().optional() });
const changesBody = z.strictObject(scheduleUpdated.shape.changes.shape);

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
    present: (state) => ({ ...state, id }),
    project: (state) => [scheduleView(tables.stateTable, me.userId, id, state), ...(isDefault ? [pointDefaultSchedule(tables.stateTable, me.userId, id)] : [])],
  });
});

const scheduleView = (tableName: string, ownerId: string, id: string, state: ScheduleState) =>
  putView(tableName, keys.schedule(id), { ...state, id }, { ownerKey: `OWNER#${ownerId}`, ownerSort: `SCHEDULE#${id}` });

export const get = httpHandler(async (event) => {
  const me = organizer(event);
  const schedule = await readSchedule(bookingTables(), pathParameter(event, 'id'));
  if (!schedule || schedule.ownerId !== me.userId) throw problems.notFound('schedule');
  return json(200, schedule);
});

export const list = httpHandler(async (event) => {
  const me = organizer(event);
  return json(200, { schedules: await listOwned(bookingTables(), `OWNER#${me.userId}`, 'SCHEDULE#') });
});

/** The owner changes a schedule; only the fields sent change (an override list sent replaces the old one). */
export const update = httpHandler(async (event) => {
  const me = organizer(event);
  const id = pathParameter(event, 'id');
  const changes = parseJsonBody(event, changesBody);
  const tables = bookingTables();
  const current = await readSchedule(tables, id);
  if (!current || current.ownerId !== me.userId) throw problems.notFound('schedule');
  return respondToCommand(event, me, {
    decider: scheduleDecider,
    aggregateType: 'schedule',
    aggregateId: id,
    command: { type: 'Update', changes },
    status: 200,
    present: (state) => ({ ...state, id }),
    project: (state) => [scheduleView(tables.stateTable, me.userId, id, state)],
  });
});
