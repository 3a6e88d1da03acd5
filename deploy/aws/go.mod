// The AWS CDK app is JavaScript; this file makes deploy/aws its own (empty) Go module so that `go vet ./...` and
// `go test ./...` of the repository skip it, including the Go project templates inside node_modules/aws-cdk.
module digitpad/deploy/aws

go 1.26
