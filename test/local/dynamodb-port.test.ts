// `npm start` must never quietly run against somebody else's database on the DynamoDB port.
import { createServer, type Server } from 'node:net';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startDynamoDbLocal } from '../../infra/local/dynamodb-local.ts';

let occupant: Server;
let port: number;

beforeAll(async () => {
  port = await freePort();
  occupant = createServer((socket) => socket.end());
  await new Promise<void>((resolve) => occupant.listen(port, '127.0.0.1', resolve));
});
afterAll(() => new Promise<void>((resolve) => occupant.close(() => resolve())));

describe('a DynamoDB port that is already served', () => {
  it('is refused before anything starts, naming the port and the way out', async () => {
    await expect(startDynamoDbLocal({ port })).rejects.toThrow(`port ${port} is already in use`);
  });

  it('makes npm start exit with a clear message instead of using that server', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'port-check-'));
    try {
      const run = spawnSync(process.execPath, ['infra/local/start.ts'], { env: { ...process.env, DYNAMODB_PORT: String(port), DATA_DIR: dataDir }, encoding: 'utf8', timeout: 120_000 });
      expect(run.status).toBe(1);
      expect(run.stderr).toContain(`port ${port} is already in use`);
      expect(run.stderr).toContain('DYNAMODB_PORT');
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
