import { expect } from 'vitest';
import type { Event } from '../../events/envelope.ts';
import { DomainError, fold, type Decider } from '../../shared/domain/decider.ts';

/** Emmett-style specs: given(past events).when(command).then(new events) or .thenThrows(error code). */
export function deciderSpec<C, S, E extends Event>(decider: Decider<C, S, E>) {
  return {
    given: (events: E[]) => ({
      when: (command: C) => {
        const run = () => decider.decide(command, fold(decider, events));
        return {
          then: (expected: E[]) => expect(run()).toEqual(expected),
          thenNothing: () => expect(run()).toEqual([]),
          thenThrows: (code: string) => {
            let thrown: unknown;
            try {
              run();
            } catch (error) {
              thrown = error;
            }
            expect(thrown, 'the command should be refused').toBeInstanceOf(DomainError);
            expect((thrown as DomainError).code).toBe(code);
          },
        };
      },
    }),
  };
}
