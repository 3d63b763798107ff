// `npm start`: the whole booking engine on this machine, from the synthesized CDK template.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { synthesizeTemplate } from '../synth.ts';
import { launchDynamoDbLocal } from './dynamodb-local.ts';
import { startLocalStack } from './runtime.ts';
import { DEV_CALDAV_LOGIN } from './caldav-server.ts';
import { defaultDataDir, writeStackFile } from './stack-file.ts';

const args = new Set(process.argv.slice(2));
if (args.has('--help')) {
  console.log(`usage: npm start [-- --seed] [-- --reset]
  --seed    create a demo event type for the organizer "dev-organizer"
  --reset   delete the local data (${defaultDataDir}) first
environment: HTTP_PORT (3000), WS_PORT (3001), SQS_PORT (3002), STRIPE_PORT (3004), SES_PORT (3005), GOOGLE_PORT (3006), GRAPH_PORT (3007), CALDAV_PORT (3008), DYNAMODB_PORT (8000), DATA_DIR (.local)
             SYNC_PERIOD_SECONDS (the calendar sync schedule's period in seconds, 5 at least; the template's otherwise)`);
  process.exit(0);
}

const port = (name: string, fallback: number) => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 0 || value > 65535) {
    console.error(`${name} must be a port number, not "${process.env[name]}"`);
    process.exit(2);
  }
  return value;
};
const httpPort = port('HTTP_PORT', 3000);
const wsPort = port('WS_PORT', 3001);
const sqsPort = port('SQS_PORT', 3002);
const stripePort = port('STRIPE_PORT', 3004);
const sesPort = port('SES_PORT', 3005);
const caldavPort = port('CALDAV_PORT', 3008);
const googlePort = port('GOOGLE_PORT', 3006);
const graphPort = port('GRAPH_PORT', 3007);
const dynamoPort = port('DYNAMODB_PORT', 8000);

if (spawnSync('java', ['-version']).error) {
  console.error('Java 17 or later is needed for DynamoDB Local: install a JRE (e.g. apt-get install openjdk-17-jre-headless) and try again.');
  process.exit(1);
}
if (args.has('--reset')) rmSync(defaultDataDir, { recursive: true, force: true });

const started = Date.now();
const failed = (what: string) => (error: Error): never => {
  console.error(`${what} did not start: ${error.message}`);
  process.exit(1);
};
// The JVM boots while this process synthesizes the template: two cores, two jobs.
const launched = await launchDynamoDbLocal({ port: dynamoPort, dataDir: join(defaultDataDir, 'dynamodb') }).catch(failed('DynamoDB Local'));
let template: ReturnType<typeof synthesizeTemplate> | undefined;
try {
  template = synthesizeTemplate();
} catch (error) {
  await (await launched.ready.catch(() => undefined))?.stop();
  failed('The CDK app')(error as Error);
}
const dynamo = await launched.ready.catch(failed('DynamoDB Local'));
let stack: Awaited<ReturnType<typeof startLocalStack>> | undefined;
try {
  stack = await startLocalStack({ template: template!, dynamoEndpoint: dynamo.endpoint, dataDir: defaultDataDir, httpPort, wsPort, sqsPort, stripePort, sesPort, caldavPort, googlePort, graphPort });
} catch (error) {
  console.error(`the local stack did not start: ${(error as Error).message}`);
  await dynamo.stop();
  process.exit(1);
}

writeStackFile(defaultDataDir, { httpUrl: stack.httpUrl, wsUrl: stack.wsUrl, sqsEndpoint: stack.sqsEndpoint, controlUrl: stack.controlUrl, dynamoEndpoint: dynamo.endpoint, stripeUrl: stack.stripe.url, issuer: stack.issuer.issuer, pid: process.pid });
const token = await stack.issuer.sign('dev-organizer');
if (args.has('--seed')) {
  const response = await fetch(`${stack.httpUrl}/event-types`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'idempotency-key': 'seed-intro-call' },
    body: JSON.stringify({ title: 'Intro call', slug: 'intro-call', lengthMinutes: 30 }),
  });
  console.log(`seeded event type: ${JSON.parse(await response.text()).id}`);
}

console.log(`
Booking engine running locally (ready in ${((Date.now() - started) / 1000).toFixed(1)} s), data in ${defaultDataDir}
  HTTP API        ${stack.httpUrl}
  WebSocket API   ${stack.wsUrl}/?token=<token>
  DynamoDB Local  ${dynamo.endpoint}
  SQS (DLQs)      ${stack.sqsEndpoint}   list them: npm run dlq; redrive: npm run dlq -- redrive <queue>
  Stripe (local)  ${stack.stripe.url}   pay a booking: npm run --silent stripe -- succeed|fail <bookingId>
${stack.sesUrl ? `  SES (mail)      ${stack.sesUrl}   read the mails sent: ${stack.sesUrl}/store\n` : ''}${
  stack.caldav
    ? `  CalDAV          ${stack.caldav.url}   login ${DEV_CALDAV_LOGIN.username} / ${DEV_CALDAV_LOGIN.password}, calendar ${stack.caldav.calendarUrl(DEV_CALDAV_LOGIN.username)}\n                  its log (one line per request): ${stack.caldav.logFile}\n`
    : `  CalDAV          not running: apt-get install radicale, then npm start again\n`
}  Google (local)  ${stack.google.url}   consent approves ${stack.google.devAccount}; dev interface: ${stack.google.url}/dev/users/${stack.google.devAccount}/events
  Graph (local)   ${stack.graph.url}   HTTPS, certificate ${join(defaultDataDir, 'graph-cert.pem')}; dev interface: ${stack.graph.url}/dev/users/${stack.graph.devAccount}/events
  Console         ${stack.httpUrl}/console#token=${token}&ws=${encodeURIComponent(stack.wsUrl)}
  OpenAPI         ${stack.httpUrl}/openapi.json
  Dev token for "dev-organizer" (12 h; more with: npm run --silent token -- <userId>):
  ${token}
${stack.notRun.length ? `  Not run locally: ${stack.notRun.join(', ')}` : '  Every resource type in the template is run locally.'}
Ctrl-C stops everything.`);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  console.log('stopping…');
  await stack?.close().catch((error) => console.error(error));
  await dynamo.stop();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
