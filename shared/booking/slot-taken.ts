import { DomainError } from '../domain/decider.ts';

/** The hosts' time is held by another booking: a conflict with the current state of their calendar. */
export class SlotTakenError extends DomainError {
  constructor() {
    super('SlotTaken', 'the host already has a booking that overlaps this time (buffers included)', 'conflict');
    this.name = 'SlotTakenError';
  }
}
