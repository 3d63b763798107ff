import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import WebSocket from 'ws';
import { startLocalStack, type LocalStack } from '../../infra/local/runtime.ts';

export type TestStack = LocalStack & { logs: string[]; stop: () => Promise<void> };

/** The whole local stack on free ports, over the test run's DynamoDB Local, with tables of its own. */
export async function startTestStack(): Promise<TestStack> {
  const dataDir = mkdtempSync(join(tmpdir(), 'booking-engine-'));
  const logs: string[] = [];
  process.env.POWERTOOLS_LOG_LEVEL = 'CRITICAL';
  const stack = await startLocalStack({
    template: inject('template'),
    dynamoEndpoint: inject('dynamoEndpoint'),
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

export type LiveSocket = { messages: any[]; next: (predicate: (message: any) => boolean) => Promise<any>; close: () => void };

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
    close: () => socket.close(),
  };
}

/** The next whole hour at least `days` days ahead: bookable, and far from other tests' times. */
export function futureSlot(days: number, hourOffset = 0): Date {
  const start = new Date(Date.now() + days * 86_400_000);
  start.setUTCHours(10 + hourOffset, 0, 0, 0);
  return start;
}
