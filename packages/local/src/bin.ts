#!/usr/bin/env node
import { startLocalAws } from './start.js';

const args = new Set(process.argv.slice(2));
if (args.has('--help') || args.has('-h')) {
  console.log(`Usage: kinesis-archive-local [--no-kinesis] [--no-dynamodb] [--region REGION]

Starts kinesis-mock (Kinesis) and DynamoDB Local (DynamoDB + Streams, in memory) on free ports, prints their
endpoints and the environment variables that point AWS SDKs and the AWS CLI at them, and runs until Ctrl-C.`);
  process.exit(0);
}
const argv = process.argv.slice(2);
const regionAt = argv.indexOf('--region');
const region = regionAt >= 0 ? argv[regionAt + 1] : undefined;

async function main(): Promise<void> {
  const aws = await startLocalAws({
    kinesis: !args.has('--no-kinesis'),
    dynamodb: !args.has('--no-dynamodb'),
    ...(region ? { region } : {}),
  });
  console.log('Local AWS stand-ins are running:');
  if (aws.endpoints.kinesis) console.log(`  Kinesis (kinesis-mock):       ${aws.endpoints.kinesis}`);
  if (aws.endpoints.dynamodb) console.log(`  DynamoDB + Streams (Local):   ${aws.endpoints.dynamodb}`);
  console.log('\nUse them from a shell:');
  for (const [k, v] of Object.entries(aws.env)) console.log(`  export ${k}=${v}`);
  console.log('\nPress Ctrl-C to stop.');
  const shutdown = async () => {
    await aws.stop();
    process.exit(0);
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
  setInterval(() => {}, 1 << 30);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
