import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import WebSocket from 'ws';
import { startLocalStack, type LocalStack } from '../../infra/local/runtime.ts';

export type TestStack = LocalStack & { logs: string[]; stop: () => Promise<void> };

/**
 * The whole local stack on free ports, over the test run's DynamoDB Local (or `dynamoEndpoint`, e.g. a proxy
 * in front of it), with tables of its own.
 */
export async function startTestStack(options: { dynamoEndpoint?: string } = {}): Promise<TestStack> {
  const dataDir = mkdtempSync(join(tmpdir(), 'booking-engine-'));
  const logs: string[] = [];
  process.env.LOG_LEVEL = 'CRITICAL';
  const stack = await startLocalStack({
    template: inject('template'),
    dynamoEndpoint: options.dynamoEndpoint ?? inject('dynamoEndpoint'),
    dataDir,
    tablePrefix: `e2e${randomBytes(3).toString('hex')}-`,
    log: (message) => logs.push(message),
  });
  return {
    ...stack,
    logs,
    stop: async () => {
      await stack.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export type LiveSocket = { messages: any[]; next: (predicate: (message: any) => boolean) => Promise<any>; send: (message: unknown) => void; close: () => void };

/** A WebSocket client that keeps every message and can wait for one that matches. */
export async function connect(url: string): Promise<LiveSocket> {
  const socket = new WebSocket(url);
  const messages: any[] = [];
  const waiters: Array<{ predicate: (message: any) => boolean; resolve: (message: any) => void }> = [];
  socket.on('message', (data) => {
    const message = JSON.parse(String(data));
    messages.push(message);
    for (const waiter of [...waiters]) {
      if (waiter.predicate(message)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(message);
      }
    }
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('unexpected-response', (_, response) => reject(new Error(`WebSocket refused: ${response.statusCode}`)));
    socket.once('error', reject);
  });
  return {
    messages,
    next: (predicate) =>
      new Promise((resolve) => {
        const seen = messages.find(predicate);
        if (seen) resolve(seen);
        else waiters.push({ predicate, resolve });
      }),
    send: (message) => socket.send(JSON.stringify(message)),
    close: () => socket.close(),
  };
}

/**
 * 10:00 UTC (plus `hourOffset`) on the `n`th weekday from two days ahead: inside the default schedule (weekdays
 * 09:00-17:00 in the organizer's zone, UTC without a profile) and apart from other tests' times.
 */
export function futureSlot(n: number, hourOffset = 0): Date {
  const day = new Date(Date.now() + 2 * 86_400_000);
  day.setUTCHours(10 + hourOffset, 0, 0, 0);
  let weekdays = 0;
  for (;;) {
    const weekday = day.getUTCDay();
    if (weekday !== 0 && weekday !== 6 && weekdays++ === n) return day;
    day.setUTCDate(day.getUTCDate() + 1);
  }
}
