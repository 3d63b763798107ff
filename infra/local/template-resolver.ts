// Resolves the CloudFormation intrinsics the synthesized template uses (Ref, Fn::GetAtt, Fn::Join, Fn::Sub,
// Fn::Select, Fn::Split) to local values: physical names and ARNs in a fake account and region.
import type { CfnResource, CfnTemplate } from '../synth.ts';

export const LOCAL_REGION = 'us-east-1';
export const LOCAL_ACCOUNT = '000000000000';

export type LocalNames = {
  /** The local endpoints that stand in for AWS ones. */
  httpApiUrl: string;
  webSocketUrl: string;
  webSocketManagementUrl: string;
  issuer: string;
  audience: string;
  queueUrl: (name: string) => string;
  /** Prepended to table names, so several local stacks can share one DynamoDB Local (tests do). */
  tablePrefix?: string;
};

const pseudo: Record<string, string> = {
  'AWS::Region': LOCAL_REGION,
  'AWS::AccountId': LOCAL_ACCOUNT,
  'AWS::Partition': 'aws',
  'AWS::URLSuffix': 'amazonaws.com',
  'AWS::StackName': 'BookingEngine',
  'AWS::NoValue': '',
};

export class TemplateResolver {
  readonly template: CfnTemplate;
  private readonly names: LocalNames;

  constructor(template: CfnTemplate, names: LocalNames) {
    this.template = template;
    this.names = names;
  }

  resource(logicalId: string): CfnResource {
    const resource = this.template.Resources[logicalId];
    if (!resource) throw new Error(`template has no resource ${logicalId}`);
    return resource;
  }

  ofType(type: string): Array<[string, CfnResource]> {
    return Object.entries(this.template.Resources).filter(([, r]) => r.Type === type);
  }

  ref(logicalId: string): string {
    if (pseudo[logicalId] !== undefined) return pseudo[logicalId]!;
    const resource = this.resource(logicalId);
    switch (resource.Type) {
      case 'AWS::SQS::Queue':
        return this.names.queueUrl(logicalId);
      case 'AWS::StepFunctions::StateMachine':
        return `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:stateMachine:${logicalId}`;
      case 'AWS::ApiGatewayV2::Stage':
        return resource.Properties?.StageName ?? logicalId;
      case 'AWS::Cognito::UserPool':
        return 'local-user-pool';
      case 'AWS::Cognito::UserPoolClient':
        return this.names.audience;
      case 'AWS::DynamoDB::Table':
        return `${this.names.tablePrefix ?? ''}${logicalId}`;
      case 'AWS::SecretsManager::Secret':
        return `arn:aws:secretsmanager:${LOCAL_REGION}:${LOCAL_ACCOUNT}:secret:${logicalId}`;
      default:
        // Tables, buses, functions, APIs: the logical id is the local physical name.
        return logicalId;
    }
  }

  getAtt(logicalId: string, attribute: string): string {
    const resource = this.resource(logicalId);
    const arn = (service: string, kind: string, sep = '/') => `arn:aws:${service}:${LOCAL_REGION}:${LOCAL_ACCOUNT}:${kind}${sep}${logicalId}`;
    switch (`${resource.Type}.${attribute}`) {
      case 'AWS::DynamoDB::Table.Arn':
        return `arn:aws:dynamodb:${LOCAL_REGION}:${LOCAL_ACCOUNT}:table/${this.ref(logicalId)}`;
      case 'AWS::DynamoDB::Table.StreamArn':
        return `arn:aws:dynamodb:${LOCAL_REGION}:${LOCAL_ACCOUNT}:table/${this.ref(logicalId)}/stream/local`;
      case 'AWS::Lambda::Function.Arn':
        return arn('lambda', 'function', ':');
      case 'AWS::SQS::Queue.Arn':
        return `arn:aws:sqs:${LOCAL_REGION}:${LOCAL_ACCOUNT}:${logicalId}`;
      case 'AWS::SQS::Queue.QueueName':
        return logicalId;
      case 'AWS::SQS::Queue.QueueUrl':
        return this.names.queueUrl(logicalId);
      case 'AWS::Events::EventBus.Arn':
        return `arn:aws:events:${LOCAL_REGION}:${LOCAL_ACCOUNT}:event-bus/${logicalId}`;
      case 'AWS::Events::EventBus.Name':
        return logicalId;
      case 'AWS::StepFunctions::StateMachine.Arn':
        return this.ref(logicalId);
      case 'AWS::Cognito::UserPool.ProviderURL':
        return this.names.issuer;
      case 'AWS::ApiGatewayV2::Api.ApiEndpoint':
        return resource.Properties?.ProtocolType === 'WEBSOCKET' ? this.names.webSocketUrl : this.names.httpApiUrl;
      case 'AWS::IAM::Role.Arn':
        return `arn:aws:iam::${LOCAL_ACCOUNT}:role/${logicalId}`;
      default:
        return `${logicalId}.${attribute}`;
    }
  }

  /** Any property value with its intrinsics resolved; local stand-ins replace AWS endpoints and issuers. */
  resolve(value: unknown): any {
    if (Array.isArray(value)) return value.map((item) => this.resolve(item));
    if (value === null || typeof value !== 'object') return typeof value === 'string' ? this.localize(value) : value;
    const entries = Object.entries(value);
    if (entries.length === 1) {
      const [key, arg] = entries[0]! as [string, any];
      switch (key) {
        case 'Ref':
          return this.localize(this.ref(arg));
        case 'Fn::GetAtt': {
          const [id, attribute] = Array.isArray(arg) ? arg : String(arg).split('.');
          return this.localize(this.getAtt(id, attribute));
        }
        case 'Fn::Join':
          return this.localize((this.resolve(arg[1]) as unknown[]).join(arg[0]));
        case 'Fn::Select':
          return this.resolve(arg[1])[Number(this.resolve(arg[0]))];
        case 'Fn::Split':
          return String(this.resolve(arg[1])).split(arg[0]);
        case 'Fn::Sub': {
          const [text, variables = {}] = Array.isArray(arg) ? arg : [arg, {}];
          return this.localize(
            String(text).replace(/\$\{([^}]+)\}/g, (_, name: string) => {
              if (name in variables) return String(this.resolve(variables[name]));
              const [id, attribute] = name.split('.');
              return attribute ? this.getAtt(id!, attribute) : this.ref(id!);
            }),
          );
        }
      }
    }
    return Object.fromEntries(entries.map(([k, v]) => [k, this.resolve(v)]));
  }

  /** AWS endpoints that the stack builds from parts, mapped to the local servers that play them. */
  private localize(text: string): string {
    const webSocketApi = this.ofType('AWS::ApiGatewayV2::Api').find(([, r]) => r.Properties?.ProtocolType === 'WEBSOCKET')?.[0];
    if (webSocketApi) {
      const host = `${webSocketApi}.execute-api.${LOCAL_REGION}.amazonaws.com`;
      text = text.replace(new RegExp(`^https://${host}(/[^/]*)?$`), this.names.webSocketManagementUrl);
      text = text.replace(new RegExp(`^wss://${host}(/[^/]*)?$`), this.names.webSocketUrl);
    }
    return text.replace(new RegExp(`^https://cognito-idp\\.${LOCAL_REGION}\\.amazonaws\\.com/local-user-pool$`), this.names.issuer);
  }
}

/** The logical id in a resolved ARN such as arn:aws:lambda:...:function:MyFunction. */
export function logicalIdOfArn(arn: string): string {
  return arn.split(/[:/]/).at(-1)!;
}
