// Domain refusals leave the HTTP edge by kind: not found 404, a conflict with the current state 409, a broken
// rule 422, each with its own title and a type named after the refusal's code.
import { describe, expect, it, vi } from 'vitest';
import type { Context } from 'aws-lambda';

// The 500 case logs its error; keep the test output quiet (read when the logger module loads).
vi.hoisted(() => {
  process.env.LOG_LEVEL = 'CRITICAL';
});
import { conflict, DomainError, notFound, ruleViolated } from '../../shared/domain/decider.ts';
import { ConcurrencyError } from '../../shared/eventstore/event-store.ts';
import { httpHandler, type HttpEvent } from '../../shared/http/handler.ts';

async function answerTo(error: unknown) {
  const handler = httpHandler(async () => {
    throw error;
  });
  const event = { rawPath: '/somewhere', requestContext: {} } as unknown as HttpEvent;
  const result = await handler(event, {} as Context);
  return { status: result.statusCode, contentType: result.headers?.['content-type'], body: JSON.parse(String(result.body)) };
}

describe('domain refusals at the HTTP edge', () => {
  it('a thing that does not exist is a 404 named after its code', async () => {
    const answer = await answerTo(notFound('UserNotFound', 'create your profile first'));
    expect(answer).toMatchObject({ status: 404, contentType: 'application/problem+json', body: { type: '/problems/user-not-found', title: 'Not found', status: 404, detail: 'create your profile first', instance: '/somewhere' } });
  });

  it('a conflict with the current state is a 409', async () => {
    const answer = await answerTo(conflict('AlreadyCancelled', 'booking is already cancelled'));
    expect(answer).toMatchObject({ status: 409, body: { type: '/problems/already-cancelled', title: 'This conflicts with its current state' } });
  });

  it('a broken rule is a 422 that lists the fields at fault', async () => {
    const answer = await answerTo(ruleViolated('TimeNotOffered', [{ path: 'start', message: 'is outside the working hours of the host' }]));
    expect(answer).toMatchObject({
      status: 422,
      body: { type: '/problems/time-not-offered', title: 'Your request breaks a rule', errors: [{ path: 'start', message: 'is outside the working hours of the host' }] },
    });
  });

  it('the three kinds have three different titles', async () => {
    const titles = await Promise.all([notFound('A', 'a'), conflict('B', 'b'), ruleViolated('C', [])].map(async (error) => (await answerTo(error)).body.title));
    expect(new Set(titles).size).toBe(3);
  });

  it('a DomainError without a kind is a conflict; a lost version race is a 409 concurrent-update', async () => {
    expect((await answerTo(new DomainError('SomethingElse', 'x'))).status).toBe(409);
    expect((await answerTo(new ConcurrencyError('a', 1))).body.type).toBe('/problems/concurrent-update');
  });

  it('anything else is a 500 that says nothing of the inside', async () => {
    const answer = await answerTo(new Error('secret table name xyz'));
    expect(answer.status).toBe(500);
    expect(JSON.stringify(answer.body)).not.toContain('xyz');
  });
});
