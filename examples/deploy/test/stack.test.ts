import { readFileSync } from 'node:fs';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  archiverActions,
  dynamodbStreamPollerActions,
  functionActions,
  kinesisPollerActions,
  onFailureQueueActions,
  producerActions,
  replicationActions,
} from '../src/permissions.js';
import { ARCHIVE_SORT_KEY, KinesisArchiveStack } from '../src/stack.js';

type Resource = { Type: string; Properties?: Record<string, unknown> };

let template: Template;

/** An app with the feature flags of `cdk.json`, so the tests see the template `cdk synth` writes. */
function appWithFlags(): App {
  const cdkJson = JSON.parse(readFileSync(new URL('../cdk.json', import.meta.url), 'utf8')) as {
    context: Record<string, unknown>;
  };
  return new App({ context: cdkJson.context });
}

beforeAll(() => {
  // Synthesizes for real: the three handlers are bundled with the locally installed esbuild.
  const app = appWithFlags();
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

/** The statements of the policies attached to the role whose logical id starts with `rolePrefix`. */
function statementsOfRole(of: Template, rolePrefix: string): Record<string, unknown>[] {
  const policies = Object.values(of.findResources('AWS::IAM::Policy')) as Resource[];
  return policies
    .filter((policy) => JSON.stringify(policy.Properties?.Roles).includes(rolePrefix))
    .flatMap((policy) => {
      const document = policy.Properties?.PolicyDocument as { Statement?: Record<string, unknown>[] };
      return document?.Statement ?? [];
    });
}

/** Every action granted to the role whose logical id contains `rolePrefix`, sorted, each once. */
function actionsOfRole(of: Template, rolePrefix: string): string[] {
  return [
    ...new Set(
      statementsOfRole(of, rolePrefix).flatMap((statement) => [statement.Action].flat() as string[]),
    ),
  ].sort();
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

  it.each(['ALL', 'LATEST'] as const)(
    '%s: each role holds exactly the actions its code, its poller, its queue and its logs use',
    (mode) => {
      const synthesized =
        mode === 'ALL'
          ? template
          : Template.fromStack(new KinesisArchiveStack(appWithFlags(), 'Latest', { archiveMode: 'LATEST' }));
      const expected = functionActions(mode);
      expect(actionsOfRole(synthesized, 'ProducerRole')).toEqual(expected.producer);
      expect(actionsOfRole(synthesized, 'ArchiverRole')).toEqual(expected.archiver);
      expect(actionsOfRole(synthesized, 'ReplicationRole')).toEqual(expected.replication);
    },
  );

  it('grants what each piece of code sends on its own resources', () => {
    /** The resources (as JSON) on which the role is granted `action`. */
    const resourcesOf = (rolePrefix: string, action: string): string[] =>
      statementsOfRole(template, rolePrefix)
        .filter((statement) => [statement.Action].flat().includes(action))
        .map((statement) => JSON.stringify(statement.Resource));
    const expectOn = (rolePrefix: string, actions: readonly string[], resource: RegExp) => {
      for (const action of actions) {
        const on = resourcesOf(rolePrefix, action);
        expect(on, action).toHaveLength(1);
        expect(on[0], action).toMatch(resource);
      }
    };
    expectOn('ArchiverRole', archiverActions.ALL, /ArchiveTable/);
    expectOn('ArchiverRole', [...archiverActions.readingTags, ...kinesisPollerActions], /SourceStream/);
    expectOn('ArchiverRole', onFailureQueueActions, /ArchiverDeadLetters/);
    expectOn('ProducerRole', producerActions, /SourceStream/);
    expectOn('ReplicationRole', replicationActions, /TargetTable/);
    expectOn('ReplicationRole', dynamodbStreamPollerActions, /SourceTable.*\/stream\/\*/);
    expectOn('ReplicationRole', onFailureQueueActions, /ReplicationDeadLetters/);
  });

  it('the exactness check fails for a role that holds one action more', () => {
    const stack = new KinesisArchiveStack(appWithFlags(), 'Extra', { archiveMode: 'ALL' });
    stack.archiver.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['dynamodb:Scan'], resources: [stack.archiveTable.tableArn] }),
    );
    const actions = actionsOfRole(Template.fromStack(stack), 'ArchiverRole');
    expect(actions).not.toEqual(functionActions('ALL').archiver);
    expect(actions).toContain('dynamodb:Scan');
  });
});
