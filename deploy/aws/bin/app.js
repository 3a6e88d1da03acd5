#!/usr/bin/env node
'use strict';
// The CDK app: `npx cdk synth` writes the CloudFormation template to cdk.out without an AWS account. The region
// matches deploy/k8s/overlays/aws; the account is left open (deploy-time).
const cdk = require('aws-cdk-lib');
const { DigitpadStack } = require('../lib/stack');

const app = new cdk.App();
new DigitpadStack(app, 'Digitpad', {
  env: { region: process.env.DIGITPAD_AWS_REGION || 'eu-west-1' },
  description: 'digitpad: VPC, EKS, RDS PostgreSQL, S3 model registry, ECR, IRSA role',
});
app.synth();
