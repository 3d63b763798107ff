import { App } from 'aws-cdk-lib';
import { BookingStack } from './booking-stack.ts';

export type CfnTemplate = { Resources: Record<string, CfnResource>; Outputs?: Record<string, unknown> };
export type CfnResource = { Type: string; Properties?: Record<string, any>; Metadata?: Record<string, any>; DependsOn?: string | string[] };

/**
 * The stack's template, synthesized in this process. Bundling is skipped (`aws:cdk:bundling-stacks` empty):
 * tests and the local runtime run the handlers from source, so the 20 bundles would only cost time. So is the
 * CDK's built-in CloudFormation validation (a WebAssembly rule engine, about 9 s of CPU on this machine, most of
 * `npm start`): `npm run synth`, which CI runs, still validates the same template.
 */
export function synthesizeTemplate(): CfnTemplate {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] }, outdir: undefined, builtinCloudFormationValidation: false });
  const stack = new BookingStack(app, 'BookingEngine');
  return app.synth().getStackByName(stack.stackName).template as CfnTemplate;
}
