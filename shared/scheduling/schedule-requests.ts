import * as z from '../../events/zod.ts';
import { scheduleDefinition, scheduleUpdated } from '../../events/scheduling.ts';

/** What POST and PATCH /schedules accept, for their handler and shared/http/contract.ts. */
export const createScheduleBody = z.strictObject({ ...scheduleDefinition.shape, isDefault: z.optional(z.boolean()) });
export const updateScheduleBody = z.strictObject(scheduleUpdated.shape.changes.shape);
