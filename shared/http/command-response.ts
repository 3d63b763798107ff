import type { Event } from '../../events/envelope.ts';
import type { Identity } from '../auth/identity.ts';
import { bookingTables } from '../config.ts';
import { executeCommand, type AggregateCommand, type ProjectionContext } from '../domain/aggregate-commands.ts';
import { json, type HttpEvent, type HttpResult } from './handler.ts';
import { IdempotentRequest } from './idempotency.ts';

type CommandResponse<C, S, E extends Event> = Omit<AggregateCommand<C, S, E>, 'metadata'> & {
  status: number;
  /** The body of the answer: the aggregate as it now is. */
  present: (state: S, context?: ProjectionContext<S>) => Record<string, unknown>;
  /** The answer when the command records nothing (it changes nothing): by default `present` of the state. */
  unchanged?: (state: S) => Promise<Record<string, unknown>>;
  location?: string;
};

/**
 * A command from an HTTP caller, answered with the aggregate as it now is. The answer is remembered under the
 * request's Idempotency-Key in the same transaction as the events, so a retry gets it back and writes nothing.
 */
export async function respondToCommand<C, S, E extends Event>(event: HttpEvent, caller: Identity, spec: CommandResponse<C, S, E>): Promise<HttpResult> {
  const tables = bookingTables();
  const request = new IdempotentRequest(tables.client, tables.stateTable, event, caller.userId);
  return request.run(async () => {
    let response: HttpResult | undefined;
    const { state, events } = await executeCommand(tables, {
      ...spec,
      metadata: { userId: caller.userId, organizationId: caller.organizationId },
      project: (after, context) => {
        response = json(spec.status, spec.present(after, context), spec.location ? { location: spec.location } : {});
        return [...spec.project(after, context), ...request.remember(response)];
      },
    });
    if (events.length > 0 && response) return response;
    // Nothing to record, perhaps because a twin of this request (same key) recorded it a moment ago: its
    // answer is the one to give.
    const first = await request.replay();
    if (first) return first;
    return json(spec.status, spec.unchanged ? await spec.unchanged(state) : spec.present(state));
  });
}
