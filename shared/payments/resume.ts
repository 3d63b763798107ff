// Resumes a workflow paused on a payment (.waitForTaskToken). The client is created once, where used; its
// endpoint comes from AWS_ENDPOINT_URL_SFN, which is how the local stack points it at its own Step Functions.
import { SFNClient, SendTaskFailureCommand, SendTaskHeartbeatCommand, SendTaskSuccessCommand } from '@aws-sdk/client-sfn';

let sfn: SFNClient | undefined;
const client = () => (sfn ??= new SFNClient({}));

/** Why a token no longer resumes anything: the task timed out (the payment window passed) or ended. */
const GONE = new Set(['TaskTimedOut', 'TaskDoesNotExist', 'InvalidToken']);

export type Resumed = 'resumed' | 'gone';

async function send(command: SendTaskSuccessCommand | SendTaskFailureCommand | SendTaskHeartbeatCommand): Promise<Resumed> {
  try {
    await client().send(command as SendTaskSuccessCommand);
    return 'resumed';
  } catch (error) {
    if (GONE.has((error as Error).name)) return 'gone';
    throw error;
  }
}

export const resumeWithSuccess = (taskToken: string, output: unknown) => send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify(output) }));
export const resumeWithFailure = (taskToken: string, error: string, cause: unknown) =>
  send(new SendTaskFailureCommand({ taskToken, error, cause: JSON.stringify(cause) }));
export const heartbeat = (taskToken: string) => send(new SendTaskHeartbeatCommand({ taskToken }));
