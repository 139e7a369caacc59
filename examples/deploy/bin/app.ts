#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { KinesisArchiveStack } from '../src/stack.js';

// Environment-agnostic on purpose: `cdk synth` needs no AWS account, credentials or lookups.
const app = new App();
const mode = app.node.tryGetContext('archiveMode') === 'LATEST' ? 'LATEST' : 'ALL';
new KinesisArchiveStack(app, 'KinesisArchive', {
  archiveMode: mode,
  description:
    'kinesis-archive: Kinesis archive to DynamoDB, aggregating producer, DynamoDB table replication',
});
app.synth();
