'use strict';
// digitpad on AWS: a VPC over three zones, an EKS cluster with a managed node group (cluster-autoscaler tags), RDS
// PostgreSQL for feedback and the registry's metadata, an S3 bucket for the registry's model blobs, an ECR
// repository for the image, and the IAM role the pods assume through IRSA (deploy/k8s/overlays/aws).
const cdk = require('aws-cdk-lib');
const ec2 = require('aws-cdk-lib/aws-ec2');
const eks = require('aws-cdk-lib/aws-eks');
const ecr = require('aws-cdk-lib/aws-ecr');
const iam = require('aws-cdk-lib/aws-iam');
const rds = require('aws-cdk-lib/aws-rds');
const s3 = require('aws-cdk-lib/aws-s3');

// What the Kubernetes side expects (deploy/k8s/overlays/aws): keep the two in step.
const K8S = {
  namespace: 'digitpad',
  serviceAccount: 'digitpad',
  registryRoleName: 'digitpad-registry',
  registryPrefix: 'models/',
  // The ALB sends from its subnets straight to pod IPs (target-type ip); the overlay's NetworkPolicy admits this
  // block, which holds the three public /24s the VPC below lays out first.
  albSourceCidr: '10.0.0.0/22',
};

class DigitpadStack extends cdk.Stack {
  /**
   * @param {import('constructs').Construct} scope
   * @param {string} id
   * @param {cdk.StackProps & {clusterName?: string, kubernetesVersion?: string, nodes?: {min: number, max: number, desired: number, instanceType: string}}} props
   */
  constructor(scope, id, props = {}) {
    super(scope, id, props);
    const clusterName = props.clusterName || 'digitpad';
    const nodes = props.nodes || { min: 3, max: 12, desired: 3, instanceType: 'c7i.large' };

    // Network: public subnets for the ALB, private ones (one NAT gateway) for nodes, isolated ones for RDS.
    const vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr('10.0.0.0/16'),
      availabilityZones: ['a', 'b', 'c'].map((z) => `${this.region}${z}`),
      natGateways: 1,
      subnetConfiguration: [
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
        { name: 'nodes', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 20 },
        { name: 'db', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 },
      ],
    });
    // The AWS Load Balancer Controller finds the ALB's subnets by these tags.
    for (const s of vpc.publicSubnets) cdk.Tags.of(s).add('kubernetes.io/role/elb', '1');
    for (const s of vpc.privateSubnets) cdk.Tags.of(s).add('kubernetes.io/role/internal-elb', '1');
    // S3 traffic from the nodes stays off the NAT gateway (and its per-GB charge).
    vpc.addGatewayEndpoint('S3Endpoint', { service: ec2.GatewayVpcEndpointAwsService.S3 });

    // Registry blobs: private, encrypted, TLS only, versioned (model versions are immutable anyway).
    const bucket = new s3.Bucket(this, 'RegistryBucket', {
      bucketName: `digitpad-registry-${this.account}`,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      versioned: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ noncurrentVersionExpiration: cdk.Duration.days(90) }],
      removalPolicy: cdk.RemovalPolicy.RETAIN,
    });

    const repo = new ecr.Repository(this, 'Images', {
      repositoryName: 'digitpad',
      imageScanOnPush: true,
      imageTagMutability: ecr.TagMutability.IMMUTABLE,
      lifecycleRules: [{ maxImageCount: 30 }],
      removalPolicy: cdk.RemovalPolicy.RETAIN,
    });

    // EKS control plane and a managed node group in the private subnets.
    const clusterRole = new iam.Role(this, 'ClusterRole', {
      assumedBy: new iam.ServicePrincipal('eks.amazonaws.com'),
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonEKSClusterPolicy')],
    });
    const cluster = new eks.CfnCluster(this, 'Cluster', {
      name: clusterName,
      version: props.kubernetesVersion || '1.33',
      roleArn: clusterRole.roleArn,
      accessConfig: { authenticationMode: 'API' },
      resourcesVpcConfig: {
        subnetIds: vpc.privateSubnets.map((s) => s.subnetId),
        endpointPrivateAccess: true,
        endpointPublicAccess: true,
      },
      logging: { clusterLogging: { enabledTypes: [{ type: 'api' }, { type: 'audit' }] } },
    });
    const nodeRole = new iam.Role(this, 'NodeRole', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      managedPolicies: ['AmazonEKSWorkerNodePolicy', 'AmazonEKS_CNI_Policy', 'AmazonEC2ContainerRegistryReadOnly']
        .map((n) => iam.ManagedPolicy.fromAwsManagedPolicyName(n)),
    });
    new eks.CfnNodegroup(this, 'Nodes', {
      clusterName: cluster.ref,
      nodeRole: nodeRole.roleArn,
      subnets: vpc.privateSubnets.map((s) => s.subnetId),
      // x86 with AVX-512 VNNI: the server's int8 kernel (README: variants) runs where the CPU has it.
      instanceTypes: [nodes.instanceType],
      amiType: 'AL2023_x86_64_STANDARD',
      capacityType: 'ON_DEMAND',
      scalingConfig: { minSize: nodes.min, maxSize: nodes.max, desiredSize: nodes.desired },
      updateConfig: { maxUnavailable: 1 },
      tags: {
        'k8s.io/cluster-autoscaler/enabled': 'true',
        [`k8s.io/cluster-autoscaler/${clusterName}`]: 'owned',
      },
    });

    // IRSA: the cluster's OIDC issuer, and the role the digitpad service account may assume.
    const issuer = cluster.attrOpenIdConnectIssuerUrl;
    const oidc = new iam.CfnOIDCProvider(this, 'Oidc', { url: issuer, clientIdList: ['sts.amazonaws.com'] });
    const issuerHost = cdk.Fn.select(1, cdk.Fn.split('https://', issuer));
    const conditions = new cdk.CfnJson(this, 'IrsaConditions', {
      value: {
        [`${issuerHost}:sub`]: `system:serviceaccount:${K8S.namespace}:${K8S.serviceAccount}`,
        [`${issuerHost}:aud`]: 'sts.amazonaws.com',
      },
    });
    const registryRole = new iam.Role(this, 'RegistryRole', {
      roleName: K8S.registryRoleName,
      assumedBy: new iam.FederatedPrincipal(oidc.attrArn, { StringEquals: conditions }, 'sts:AssumeRoleWithWebIdentity'),
      description: 'digitpad pods (IRSA): read and write model versions in the registry bucket',
    });
    // Model versions are immutable: read, write new ones, list; no delete.
    registryRole.addToPolicy(new iam.PolicyStatement({
      actions: ['s3:GetObject', 's3:PutObject'],
      resources: [bucket.arnForObjects(`${K8S.registryPrefix}*`)],
    }));
    registryRole.addToPolicy(new iam.PolicyStatement({
      actions: ['s3:ListBucket'],
      resources: [bucket.bucketArn],
      conditions: { StringLike: { 's3:prefix': [`${K8S.registryPrefix}*`] } },
    }));

    // PostgreSQL: Multi-AZ, encrypted, private, reachable from the cluster's security group only.
    const dbSg = new ec2.SecurityGroup(this, 'DbSecurityGroup', { vpc, description: 'digitpad PostgreSQL', allowAllOutbound: false });
    dbSg.addIngressRule(ec2.Peer.securityGroupId(cluster.attrClusterSecurityGroupId), ec2.Port.tcp(5432), 'EKS pods and nodes');
    const db = new rds.DatabaseInstance(this, 'Database', {
      engine: rds.DatabaseInstanceEngine.postgres({ version: rds.PostgresEngineVersion.VER_16 }),
      instanceType: ec2.InstanceType.of(ec2.InstanceClass.M7G, ec2.InstanceSize.LARGE),
      vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      securityGroups: [dbSg],
      multiAz: true,
      databaseName: 'digitpad',
      credentials: rds.Credentials.fromGeneratedSecret('digitpad'),
      allocatedStorage: 50,
      maxAllocatedStorage: 500,
      storageType: rds.StorageType.GP3,
      storageEncrypted: true,
      publiclyAccessible: false,
      backupRetention: cdk.Duration.days(14),
      deletionProtection: true,
      removalPolicy: cdk.RemovalPolicy.SNAPSHOT,
      parameters: { 'rds.force_ssl': '1' },
    });

    new cdk.CfnOutput(this, 'ClusterName', { value: cluster.ref });
    new cdk.CfnOutput(this, 'RegistryBucketName', { value: bucket.bucketName });
    new cdk.CfnOutput(this, 'RegistryRoleArn', { value: registryRole.roleArn });
    new cdk.CfnOutput(this, 'DatabaseEndpoint', { value: db.dbInstanceEndpointAddress });
    new cdk.CfnOutput(this, 'DatabaseSecretArn', { value: db.secret.secretArn });
    new cdk.CfnOutput(this, 'ImageRepositoryUri', { value: repo.repositoryUri });
  }
}

module.exports = { DigitpadStack, K8S };
