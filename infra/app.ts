import { App } from 'aws-cdk-lib';
import { BookingStack } from './booking-stack.ts';

const app = new App();
new BookingStack(app, 'BookingEngine', {
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});
