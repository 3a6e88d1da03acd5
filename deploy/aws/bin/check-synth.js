#!/usr/bin/env node
'use strict';
// Reads what `cdk synth` wrote to cdk.out and fails unless it is a complete CloudFormation template.
const fs = require('node:fs');
const path = require('node:path');

const file = path.join(__dirname, '..', 'cdk.out', 'Digitpad.template.json');
const t = JSON.parse(fs.readFileSync(file, 'utf8'));
const types = Object.values(t.Resources || {}).map((r) => r.Type);
for (const want of ['AWS::EC2::VPC', 'AWS::EKS::Cluster', 'AWS::EKS::Nodegroup', 'AWS::RDS::DBInstance', 'AWS::S3::Bucket',
  'AWS::IAM::OIDCProvider', 'AWS::ECR::Repository']) {
  if (!types.includes(want)) throw new Error(`${file}: no ${want}`);
}
console.log(`cdk synth: ${types.length} resources, ${Object.keys(t.Outputs || {}).length} outputs in ${path.relative(process.cwd(), file)}`);
