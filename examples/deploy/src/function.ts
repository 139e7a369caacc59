import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { lockFile } from './paths.js';

/** Props of {@link HandlerFunction}. */
export interface HandlerFunctionProps {
  /** The TypeScript entry file of the handler. */
  entry: string;
  /** Environment of the function. */
  environment?: Record<string, string>;
  /** Timeout. Default 60 s. */
  timeout?: Duration;
  /** Memory in MiB. Default 512. */
  memorySize?: number;
  /** How long logs are kept. Default one month. */
  logRetention?: logs.RetentionDays;
}

/**
 * A Node.js 22 Lambda function bundled locally with esbuild (no Docker), with its own role and log group, so that
 * its permissions are exactly the grants the stack gives it: the role gets no managed policy (the usual
 * `AWSLambdaBasicExecutionRole` allows writing to every log group), only `logs:CreateLogStream` and
 * `logs:PutLogEvents` on its own log group.
 */
export class HandlerFunction extends Construct {
  /** The function. */
  readonly function: nodejs.NodejsFunction;
  /** Its execution role. */
  readonly role: iam.Role;
  /** Its log group. */
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: HandlerFunctionProps) {
    super(scope, id);
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of ${id}; permissions come only from grants`,
    });
    this.logGroup.grantWrite(this.role);
    this.function = new nodejs.NodejsFunction(this, 'Function', {
      entry: props.entry,
      handler: 'handler',
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      role: this.role,
      logGroup: this.logGroup,
      timeout: props.timeout ?? Duration.seconds(60),
      memorySize: props.memorySize ?? 512,
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        ...props.environment,
      },
      depsLockFilePath: lockFile,
      bundling: {
        forceDockerBundling: false,
        target: 'node22',
        format: nodejs.OutputFormat.CJS,
        sourceMap: true,
        minify: true,
        // Bundle the pinned SDK v3 clients the code was tested with instead of the runtime's copy.
        externalModules: [],
      },
    });
  }
}
