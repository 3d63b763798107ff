import type { Event } from '../../events/envelope.ts';
import type { Identity } from '../auth/identity.ts';
import { bookingTables } from '../config.ts';
import { executeCommand, type AggregateCommand } from '../domain/aggregate-commands.ts';
import type { TransactionItem } from '../eventstore/event-store.ts';
import { json, type HttpEvent, type HttpResult } from './handler.ts';
import { IdempotentRequest } from './idempotency.ts';

type CommandResponse<C, S, E extends Event> = Omit<AggregateCommand<C, S, E>, 'project' | 'metadata'> & {
  status: number;
  /** The body of the answer: the aggregate as it now is. */
  present: (state: S) => Record<string, unknown>;
  /** The read model writes for that state. */
  project: (state: S) => TransactionItem[];
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
    const { state } = await executeCommand(tables, {
      ...spec,
      metadata: { userId: caller.userId, organizationId: caller.organizationId },
      project: (after) => {
        response = json(spec.status, spec.present(after), spec.location ? { location: spec.location } : {});
        return [...spec.project(after), ...request.remember(response)];
      },
    });
    return response ?? json(spec.status, spec.present(state));
  });
}
