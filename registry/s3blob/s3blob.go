// Package s3blob stores registry blobs in an S3 bucket (AWS S3 or any S3-compatible server) with aws-sdk-go-v2.
//
// Credentials, region and endpoint follow the AWS SDK's conventions: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
// AWS_SESSION_TOKEN, AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL (an S3-compatible server),
// instance and container roles. With a custom endpoint, requests use path-style addressing
// (http://host/bucket/key), which S3-compatible servers expect; ?path-style=false in the URL turns it off.
package s3blob

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"digitpad/registry"
)

// Bucket implements registry.Blobs over s3://BUCKET/PREFIX.
type Bucket struct {
	client *s3.Client
	bucket string
	prefix string
}

var _ registry.Blobs = (*Bucket)(nil)

// ParseURL splits s3://BUCKET[/PREFIX][?path-style=true|false].
func ParseURL(raw string) (bucket, prefix string, pathStyle *bool, err error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "s3" || u.Host == "" {
		return "", "", nil, fmt.Errorf("%w: blob URL %q: want s3://BUCKET[/PREFIX]", registry.ErrInvalid, raw)
	}
	prefix = strings.Trim(u.Path, "/")
	if prefix != "" {
		prefix += "/"
	}
	if v := u.Query().Get("path-style"); v != "" {
		b := v == "true" || v == "1"
		pathStyle = &b
	}
	return u.Host, prefix, pathStyle, nil
}

// Open connects to s3://BUCKET[/PREFIX] with the SDK's default configuration (see the package comment).
func Open(ctx context.Context, rawURL string) (*Bucket, error) {
	bucket, prefix, pathStyle, err := ParseURL(rawURL)
	if err != nil {
		return nil, err
	}
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("s3 config: %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	custom := os.Getenv("AWS_ENDPOINT_URL_S3") != "" || os.Getenv("AWS_ENDPOINT_URL") != ""
	client := s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.UsePathStyle = custom
		if pathStyle != nil {
			o.UsePathStyle = *pathStyle
		}
		// Checksums only where S3 requires them: S3-compatible servers differ in their support of the newer
		// trailing checksums, and the registry verifies sha256 of every file itself.
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	})
	b := &Bucket{client: client, bucket: bucket, prefix: prefix}
	if _, err := client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &bucket}); err != nil {
		return nil, fmt.Errorf("s3 bucket %s: %w", bucket, err)
	}
	return b, nil
}

func (b *Bucket) key(k string) *string { s := b.prefix + k; return &s }

// Put implements registry.Blobs.
func (b *Bucket) Put(ctx context.Context, key string, data []byte) error {
	_, err := b.client.PutObject(ctx, &s3.PutObjectInput{Bucket: &b.bucket, Key: b.key(key), Body: bytes.NewReader(data),
		ContentLength: aws.Int64(int64(len(data))), ContentType: aws.String("application/octet-stream")})
	if err != nil {
		return fmt.Errorf("s3 put %s: %w", key, err)
	}
	return nil
}

func notFound(err error) bool {
	var nk *types.NoSuchKey
	var nf *types.NotFound
	var ae smithy.APIError
	return errors.As(err, &nk) || errors.As(err, &nf) ||
		(errors.As(err, &ae) && (ae.ErrorCode() == "NoSuchKey" || ae.ErrorCode() == "NotFound"))
}

// Get implements registry.Blobs.
func (b *Bucket) Get(ctx context.Context, key string) ([]byte, error) {
	out, err := b.client.GetObject(ctx, &s3.GetObjectInput{Bucket: &b.bucket, Key: b.key(key)})
	if notFound(err) {
		return nil, fmt.Errorf("s3 blob %s: %w", key, registry.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("s3 get %s: %w", key, err)
	}
	defer out.Body.Close()
	data, err := io.ReadAll(io.LimitReader(out.Body, registry.MaxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("s3 get %s: %w", key, err)
	}
	return data, nil
}

// Exists implements registry.Blobs.
func (b *Bucket) Exists(ctx context.Context, key string) (bool, error) {
	_, err := b.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &b.bucket, Key: b.key(key)})
	if notFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("s3 head %s: %w", key, err)
	}
	return true, nil
}

// Delete implements registry.Blobs.
func (b *Bucket) Delete(ctx context.Context, key string) error {
	if _, err := b.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &b.bucket, Key: b.key(key)}); err != nil && !notFound(err) {
		return fmt.Errorf("s3 delete %s: %w", key, err)
	}
	return nil
}

// List implements registry.Blobs.
func (b *Bucket) List(ctx context.Context, prefix string) ([]registry.BlobInfo, error) {
	var out []registry.BlobInfo
	p := s3.NewListObjectsV2Paginator(b.client, &s3.ListObjectsV2Input{Bucket: &b.bucket, Prefix: aws.String(b.prefix + prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("s3 list: %w", err)
		}
		for _, o := range page.Contents {
			out = append(out, registry.BlobInfo{Key: strings.TrimPrefix(aws.ToString(o.Key), b.prefix), Modified: aws.ToTime(o.LastModified)})
		}
	}
	return out, nil
}

// Close implements registry.Blobs.
func (b *Bucket) Close() error { return nil }
