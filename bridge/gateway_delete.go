package bridge

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/versity/versitygw/s3err"
	"github.com/versity/versitygw/s3response"
)

func (g *gateway) DeleteObject(ctx context.Context, in *s3.DeleteObjectInput) (*s3.DeleteObjectOutput, error) {
	br, key, err := g.object(ctx, in.Bucket, in.Key)
	if err != nil {
		return nil, err
	}
	if err := g.deleteKey(ctx, br, br.key(key)); err != nil {
		return nil, s3Error(err, key)
	}
	if err := g.putExtra(ctx, br, key, objectExtra{}); err != nil {
		return nil, err
	}
	g.deleteReceipt(ctx, br, key)
	return &s3.DeleteObjectOutput{}, nil
}

// DeleteObjects signs no receipts (see receipts.go).
func (g *gateway) DeleteObjects(ctx context.Context, in *s3.DeleteObjectsInput) (s3response.DeleteResult, error) {
	var out s3response.DeleteResult
	br, err := g.bucket(ctx, deref(in.Bucket))
	if err != nil {
		return out, err
	}
	if in.Delete == nil {
		return out, nil
	}
	if err := checkDeleteCount(len(in.Delete.Objects)); err != nil {
		return out, err
	}
	for _, obj := range in.Delete.Objects {
		key, err := objectKey(obj.Key)
		if err == nil {
			err = s3Error(g.deleteKey(ctx, br, br.key(key)), key)
		}
		if err == nil {
			err = g.putExtra(ctx, br, key, objectExtra{})
		}
		if err != nil {
			code, msg := "InternalError", err.Error()
			if se, ok := err.(s3err.S3Error); ok {
				code, msg = se.BaseError().Code, se.BaseError().Description
			}
			out.Error = append(out.Error, types.Error{Key: obj.Key, Code: &code, Message: &msg})
			continue
		}
		out.Deleted = append(out.Deleted, types.DeletedObject{Key: obj.Key})
	}
	return out, nil
}
