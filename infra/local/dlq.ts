// `npm run dlq` lists the local queues with their message counts; `npm run dlq -- show <queue>` prints the
// messages of one without taking them (they stay for a redrive).
import { GetQueueAttributesCommand, ListQueuesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { localAwsConfig } from './dynamodb-local.ts';
import { defaultDataDir, readStackFile } from './stack-file.ts';

const stack = readStackFile(defaultDataDir);
if (!stack) {
  console.error('no local stack has run here yet: start it with npm start');
  process.exit(1);
}
const sqs = new SQSClient({ ...localAwsConfig, endpoint: stack.sqsEndpoint });
const [command = 'list', name] = process.argv.slice(2);
try {
  const { QueueUrls = [] } = await sqs.send(new ListQueuesCommand({}));
  if (command === 'list') {
    for (const url of QueueUrls) {
      const { Attributes = {} } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }));
      console.log(`${url.split('/').at(-1)!.padEnd(50)} ${Attributes.ApproximateNumberOfMessages} waiting, ${Attributes.ApproximateNumberOfMessagesNotVisible} in flight`);
    }
  } else if (command === 'show' && name) {
    // The template's logical ids end in a hash; the readable start of the name is enough.
    const matches = QueueUrls.filter((u) => u.split('/').at(-1)!.startsWith(name));
    if (matches.length !== 1) {
      console.error(matches.length ? `${name} names several queues: ${matches.map((u) => u.split('/').at(-1)).join(', ')}` : `no queue named ${name}; npm run dlq lists them`);
      process.exit(2);
    }
    const url = matches[0]!;
    const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, VisibilityTimeout: 0, MessageAttributeNames: ['All'] }));
    for (const message of Messages) console.log(JSON.stringify({ id: message.MessageId, attributes: message.MessageAttributes, body: JSON.parse(message.Body ?? 'null') }, null, 2));
    if (!Messages.length) console.log(`${url.split("/").at(-1)} is empty`);
  } else {
    console.error('usage: npm run dlq [-- list | show <queue>]');
    process.exit(2);
  }
} catch (error) {
  console.error(`could not reach the local SQS at ${stack.sqsEndpoint} (is npm start running?): ${(error as Error).message}`);
  process.exit(1);
}
