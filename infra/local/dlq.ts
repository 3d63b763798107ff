// `npm run dlq` lists the local queues with their message counts;
// `npm run dlq -- show <queue>` prints the messages of one without taking them (they stay for a redrive);
// `npm run dlq -- redrive <queue>` hands each parked message back to the target it was parked for (the running
// stack delivers it: see redrive.ts), deleting it once delivered and keeping it if it fails again;
// `npm run dlq -- purge <queue>` drops them all.
import { GetQueueAttributesCommand, ListQueuesCommand, PurgeQueueCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { localAwsConfig } from './dynamodb-local.ts';
import { callControl } from './control.ts';
import { defaultDataDir, readStackFile } from './stack-file.ts';

const usage = 'usage: npm run dlq [-- list | show <queue> | redrive <queue> | purge <queue>]';
const stack = readStackFile(defaultDataDir);
if (!stack) {
  console.error('no local stack has run here yet: start it with npm start');
  process.exit(1);
}
const sqs = new SQSClient({ ...localAwsConfig, endpoint: stack.sqsEndpoint });
const [command = 'list', name] = process.argv.slice(2);
const queueName = (url: string) => url.split('/').at(-1)!;

/** The template's logical ids end in a hash; the readable start of the name is enough. */
function oneQueue(urls: string[]): string {
  const exact = urls.filter((u) => queueName(u) === name);
  const matches = exact.length ? exact : urls.filter((u) => queueName(u).startsWith(name!));
  if (matches.length !== 1) {
    console.error(matches.length ? `${name} names several queues: ${matches.map(queueName).join(', ')}` : `no queue named ${name}; npm run dlq lists them`);
    process.exit(2);
  }
  return matches[0]!;
}

let urls: string[];
try {
  ({ QueueUrls: urls = [] } = await sqs.send(new ListQueuesCommand({})));
} catch (error) {
  console.error(`could not reach the local SQS at ${stack.sqsEndpoint} (is npm start running?): ${(error as Error).message}`);
  process.exit(1);
}
if (command === 'list') {
  for (const url of urls) {
    const { Attributes = {} } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }));
    console.log(`${queueName(url).padEnd(50)} ${Attributes.ApproximateNumberOfMessages} waiting, ${Attributes.ApproximateNumberOfMessagesNotVisible} in flight`);
  }
} else if (command === 'show' && name) {
  const url = oneQueue(urls);
  const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, VisibilityTimeout: 0, MessageAttributeNames: ['All'] }));
  for (const message of Messages) console.log(JSON.stringify({ id: message.MessageId, attributes: message.MessageAttributes, body: JSON.parse(message.Body ?? 'null') }, null, 2));
  if (!Messages.length) console.log(`${queueName(url)} is empty`);
} else if (command === 'purge' && name) {
  const url = oneQueue(urls);
  await sqs.send(new PurgeQueueCommand({ QueueUrl: url }));
  console.log(`${queueName(url)} purged`);
} else if (command === 'redrive' && name) {
  const url = oneQueue(urls);
  try {
    const outcomes = (await callControl(stack.controlUrl, 'dlq/redrive', { queue: queueName(url) }, (line) => console.log(line))) as Array<{ delivered: boolean }>;
    const kept = outcomes.filter((o) => !o.delivered).length;
    console.log(`${queueName(url)}: ${outcomes.length - kept} redriven, ${kept} kept${kept ? ' (they failed again; fix the cause and redrive again)' : ''}`);
    process.exitCode = kept ? 1 : 0;
  } catch (error) {
    console.error(`redrive failed: ${(error as Error).message} (is npm start running?)`);
    process.exit(1);
  }
} else {
  console.error(usage);
  process.exit(2);
}
sqs.destroy();
