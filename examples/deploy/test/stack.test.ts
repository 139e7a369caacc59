import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { beforeAll, describe, expect, it } from 'vitest';
import { ARCHIVE_SORT_KEY, KinesisArchiveStack } from '../src/stack.js';

type Resource = { Type: string; Properties?: Record<string, unknown> };

let template: Template;

beforeAll(() => {
  // Synthesizes for real: the three handlers are bundled with the locally installed esbuild.
  const app = new App();
  const stack = new KinesisArchiveStack(app, 'Test', { archiveMode: 'ALL', archiveTtlSeconds: 3600 });
  template = Template.fromStack(stack);
});

function resourcesOfType(type: string): Resource[] {
  return Object.values(template.findResources(type)) as Resource[];
}

/** Every IAM statement of a template: inline policies, role policies and resource policies alike. */
function allStatements(of: Template = template): Record<string, unknown>[] {
  const statements: Record<string, unknown>[] = [];
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(visit);
    else if (node && typeof node === 'object') {
      const object = node as Record<string, unknown>;
      if (Array.isArray(object.Statement))
        statements.push(...(object.Statement as Record<string, unknown>[]));
      Object.values(object).forEach(visit);
    }
  };
  visit(of.toJSON().Resources);
  return statements;
}

/** A statement that grants on every resource (or on everything but some). */
function isTooBroad(statement: Record<string, unknown>): boolean {
  if (statement.NotResource !== undefined) return true;
  // Identity policies must name their resources; trust policies (with a Principal) have none.
  if (statement.Principal === undefined && statement.Resource === undefined) return true;
  return [statement.Resource ?? []].flat().some((resource) => resource === '*');
}

describe('KinesisArchiveStack', () => {
  it('the wildcard check finds a wildcard statement when there is one', () => {
    const stack = new Stack(new App(), 'Broad');
    const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    role.addToPolicy(new iam.PolicyStatement({ actions: ['kinesis:PutRecords'], resources: ['*'] }));
    expect(allStatements(Template.fromStack(stack)).filter(isTooBroad)).toHaveLength(1);
  });

  it('creates a tagged source stream', () => {
    template.resourceCountIs('AWS::Kinesis::Stream', 1);
    template.hasResourceProperties('AWS::Kinesis::Stream', {
      Tags: Match.arrayWith([
        { Key: 'ArchiveTTL', Value: 'expireSeconds=3600' },
        { Key: 'StreamArchiveMode', Value: 'all' },
      ]),
    });
  });

  it('creates the archive table with the archive key schema, on-demand, TTL and point-in-time recovery', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: 'partitionKey', KeyType: 'HASH' },
        { AttributeName: ARCHIVE_SORT_KEY, KeyType: 'RANGE' },
      ],
      AttributeDefinitions: Match.arrayWith([
        { AttributeName: 'partitionKey', AttributeType: 'S' },
        { AttributeName: ARCHIVE_SORT_KEY, AttributeType: 'S' },
      ]),
      BillingMode: 'PAY_PER_REQUEST',
      TimeToLiveSpecification: { AttributeName: 'expireAfter', Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
  });

  it('runs every function on Node.js 22 with a bundled handler', () => {
    const functions = resourcesOfType('AWS::Lambda::Function');
    expect(functions).toHaveLength(3);
    for (const fn of functions) {
      expect(fn.Properties?.Runtime).toBe('nodejs22.x');
      expect(fn.Properties?.Handler).toBe('index.handler');
    }
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          ARCHIVE_MODE: 'ALL',
          ARCHIVE_TTL_SECONDS: '3600',
          ARCHIVE_TABLE: Match.anyValue(),
        }),
      },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ STREAM_NAME: Match.anyValue() }) },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ TARGET_TABLE: Match.anyValue() }) },
    });
  });

  it('maps the stream to the archiver with bounded retries, bisect, record age, partial failures and an SQS destination', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^SourceStream'), 'Arn'] },
      BatchSize: 500,
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 5,
      MaximumRecordAgeInSeconds: 86_400,
      StartingPosition: 'TRIM_HORIZON',
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      DestinationConfig: {
        OnFailure: { Destination: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ArchiverDeadLetters'), 'Arn'] } },
      },
    });
  });

  it('replicates the source table stream into the target table', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^SourceTable'), 'StreamArn'] },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 10,
      DestinationConfig: { OnFailure: { Destination: Match.anyValue() } },
    });
    template.resourceCountIs('AWS::DynamoDB::Table', 3);
  });

  it('grants no wildcard resource in any IAM statement, and attaches no managed policy', () => {
    const statements = allStatements();
    expect(statements.length).toBeGreaterThan(5);
    expect(statements.filter(isTooBroad)).toEqual([]);
    for (const role of resourcesOfType('AWS::IAM::Role')) {
      expect(role.Properties?.ManagedPolicyArns).toBeUndefined();
    }
  });

  it('gives each function only what it needs', () => {
    const actionsOf = (rolePrefix: string): string[] => {
      const policies = resourcesOfType('AWS::IAM::Policy').filter((policy) =>
        JSON.stringify(policy.Properties?.Roles).includes(rolePrefix),
      );
      return policies.flatMap((policy) => {
        const document = policy.Properties?.PolicyDocument as { Statement?: { Action: string | string[] }[] };
        return (document?.Statement ?? []).flatMap((statement) => [statement.Action].flat());
      });
    };
    const producer = actionsOf('ProducerRole');
    expect(producer).toEqual(expect.arrayContaining(['kinesis:PutRecords', 'kinesis:ListShards']));
    expect(producer.some((action) => action.startsWith('dynamodb:'))).toBe(false);
    const archiver = actionsOf('ArchiverRole');
    expect(archiver).toEqual(
      expect.arrayContaining([
        'kinesis:GetRecords',
        'kinesis:ListTagsForStream',
        'dynamodb:BatchWriteItem',
        'sqs:SendMessage',
      ]),
    );
    expect(archiver).not.toContain('kinesis:PutRecords');
    const replication = actionsOf('ReplicationRole');
    expect(replication).toEqual(
      expect.arrayContaining(['dynamodb:GetRecords', 'dynamodb:PutItem', 'dynamodb:DeleteItem']),
    );
    expect(replication).not.toContain('kinesis:GetRecords');
  });
});
