'use strict';
// Offline checks of the synthesised CloudFormation template (no AWS account, no network): what must hold for
// digitpad's deployment to be safe and to match the Kubernetes side.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const cdk = require('aws-cdk-lib');
const { Template, Match } = require('aws-cdk-lib/assertions');
const { DigitpadStack, K8S } = require('../lib/stack');

const app = new cdk.App();
const stack = new DigitpadStack(app, 'Test', { env: { region: 'eu-west-1' } });
const t = Template.fromStack(stack);
const overlay = fs.readFileSync(path.join(__dirname, '../../k8s/overlays/aws/kustomization.yaml'), 'utf8');

test('one EKS cluster with a managed node group the cluster autoscaler may resize', () => {
  t.resourceCountIs('AWS::EKS::Cluster', 1);
  t.hasResourceProperties('AWS::EKS::Nodegroup', {
    ScalingConfig: { MinSize: 3, MaxSize: 12, DesiredSize: 3 },
    Tags: Match.objectLike({ 'k8s.io/cluster-autoscaler/enabled': 'true', 'k8s.io/cluster-autoscaler/digitpad': 'owned' }),
  });
});

test('VPC spans three zones with subnets tagged for the ALB controller', () => {
  const subnets = t.findResources('AWS::EC2::Subnet');
  const zones = new Set(Object.values(subnets).map((s) => s.Properties.AvailabilityZone));
  assert.equal(zones.size, 3);
  const elb = Object.values(subnets).filter((s) => (s.Properties.Tags || []).some((g) => g.Key === 'kubernetes.io/role/elb'));
  assert.equal(elb.length, 3, 'public subnets tagged kubernetes.io/role/elb');
  t.resourceCountIs('AWS::EC2::NatGateway', 1);
  // The overlay's NetworkPolicy admits the ALB's subnets by CIDR: every public subnet must lie inside it.
  const [base, bits] = K8S.albSourceCidr.split('/');
  const block = (ip) => Math.floor(ip.split('.').reduce((a, o) => a * 256 + Number(o), 0) / 2 ** (32 - Number(bits)));
  for (const s of elb) {
    assert.equal(block(s.Properties.CidrBlock.split('/')[0]), block(base), `public subnet ${s.Properties.CidrBlock} outside ${K8S.albSourceCidr}`);
  }
  assert.match(overlay, new RegExp(`cidr: ${K8S.albSourceCidr.replace(/\./g, '\\.')}`));
});

test('registry bucket is private, encrypted, versioned and TLS-only', () => {
  t.hasResourceProperties('AWS::S3::Bucket', {
    PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
    BucketEncryption: Match.anyValue(),
    VersioningConfiguration: { Status: 'Enabled' },
  });
  t.hasResourceProperties('AWS::S3::BucketPolicy', {
    PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
  });
});

test('IRSA role: only the digitpad service account may assume it, and it may only read and write model objects', () => {
  const roles = t.findResources('AWS::IAM::Role', { Properties: { RoleName: K8S.registryRoleName } });
  const [role] = Object.values(roles);
  assert.ok(role, 'registry role exists');
  const stmt = role.Properties.AssumeRolePolicyDocument.Statement[0];
  assert.equal(stmt.Action, 'sts:AssumeRoleWithWebIdentity');
  assert.ok(stmt.Principal.Federated, 'federated principal (the cluster OIDC provider)');
  // The condition keys are resolved at deploy time by CfnJson; its value names the service account.
  const json = Object.values(t.findResources('Custom::AWSCDKCfnJson'))[0];
  const value = JSON.stringify(json.Properties.Value);
  assert.match(value, new RegExp(`system:serviceaccount:${K8S.namespace}:${K8S.serviceAccount}`));
  assert.match(value, /sts\.amazonaws\.com/);

  const policies = Object.values(t.findResources('AWS::IAM::Policy'))
    .filter((p) => JSON.stringify(p.Properties.Roles).includes(Object.keys(roles)[0]));
  const actions = policies.flatMap((p) => p.Properties.PolicyDocument.Statement.flatMap((s) => [].concat(s.Action)));
  assert.deepEqual(new Set(actions), new Set(['s3:GetObject', 's3:PutObject', 's3:ListBucket']));
  for (const a of actions) assert.ok(!a.includes('*') && !a.includes('Delete'), `no wildcard or delete: ${a}`);
});

test('the k8s aws overlay names the same role, namespace and region', () => {
  assert.match(overlay, new RegExp(`role/${K8S.registryRoleName}\\b`));
  assert.match(overlay, new RegExp(`^namespace: ${K8S.namespace}$`, 'm'));
  assert.match(overlay, /AWS_REGION=eu-west-1/);
  // The pods' registry files go to the stack's bucket, under the prefix the IRSA role may use.
  assert.match(overlay, new RegExp(`DIGITPAD_REGISTRY_BLOBS=s3://digitpad-registry-ACCOUNT_ID/${K8S.registryPrefix.replace(/\/$/, '')}$`, 'm'));
  t.hasResourceProperties('AWS::S3::Bucket', { BucketName: { 'Fn::Join': ['', ['digitpad-registry-', { Ref: 'AWS::AccountId' }]] } });
});

test('PostgreSQL is Multi-AZ, encrypted, private, TLS-only, and reachable from the cluster only', () => {
  t.hasResourceProperties('AWS::RDS::DBInstance', {
    Engine: 'postgres', MultiAZ: true, StorageEncrypted: true, PubliclyAccessible: false, DeletionProtection: true,
    DBName: 'digitpad',
  });
  t.hasResourceProperties('AWS::RDS::DBParameterGroup', { Parameters: { 'rds.force_ssl': '1' } });
  t.hasResourceProperties('AWS::EC2::SecurityGroup', {
    GroupDescription: 'digitpad PostgreSQL',
    SecurityGroupIngress: [Match.objectLike({
      FromPort: 5432, ToPort: 5432, IpProtocol: 'tcp',
      SourceSecurityGroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Cluster'), 'ClusterSecurityGroupId'] },
    })],
  });
  // Credentials live in Secrets Manager, never in the template.
  t.resourceCountIs('AWS::SecretsManager::Secret', 1);
  assert.doesNotMatch(JSON.stringify(t.toJSON()), /MasterUserPassword"\s*:\s*"[^{]/);
});

test("no security group in the stack is open to the world (the ALB controller makes the ALB's)", () => {
  for (const [id, sg] of Object.entries(t.findResources('AWS::EC2::SecurityGroup'))) {
    for (const r of sg.Properties.SecurityGroupIngress || []) {
      assert.notEqual(r.CidrIp, '0.0.0.0/0', `${id} open to the world`);
    }
  }
});
