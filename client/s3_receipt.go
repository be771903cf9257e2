package client

import (
	"context"
	"fmt"
	"net/url"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/flashback-network/flashback/receipt"
)

// Receipts: a bridge signs a receipt (package receipt) for each write and
// delete and returns it in the x-flashback-receipt header. The Bucket
// methods that write or delete (Upload, UploadFile, Copy, Remove) decode
// it, verify its signature and check that it is about what was asked (the
// reservation, key, operation and size); a verified receipt is in the
// result's Receipt. A receipt that fails those checks is not returned:
// ReceiptProblem says why (the operation itself succeeded). A bridge that
// signs no receipts leaves both empty.

// receiptWant is what a receipt must say to be about an operation.
type receiptWant struct {
	res, key, op string
	size         int64 // -1: not checked
}

// PutReceiptOf finds and verifies the bridge's receipt of a completed
// upload (PutObject or CompleteMultipartUpload) of size bytes to key in
// reservation res, for callers that drive the S3 client themselves (the
// CLI's resumable uploads). It returns (nil, "") when the bridge sent none,
// and (nil, why) when the receipt does not hold.
func PutReceiptOf(md middleware.Metadata, res, key string, size int64) (*receipt.Receipt, string) {
	return receiptOf(md, receiptWant{res: res, key: key, op: receipt.OpPut, size: size})
}

// receiptOf finds, decodes and checks the receipt in a response's
// metadata. It returns (nil, "") when the bridge sent none.
func receiptOf(md middleware.Metadata, want receiptWant) (*receipt.Receipt, string) {
	resp, ok := awsmiddleware.GetRawResponse(md).(*smithyhttp.Response)
	if !ok {
		return nil, ""
	}
	h := resp.Header.Get(receipt.Header)
	if h == "" {
		return nil, ""
	}
	r, err := receipt.Decode(h)
	if err != nil {
		return nil, err.Error()
	}
	if err := r.Verify(); err != nil {
		return nil, err.Error()
	}
	if r.Reservation != want.res || r.Key != want.key || r.Op != want.op {
		return nil, fmt.Sprintf("receipt is for %s of %s/%s, not %s of %s/%s", r.Op, r.Reservation, r.Key, want.op, want.res, want.key)
	}
	if want.size >= 0 && r.Size != want.size {
		return nil, fmt.Sprintf("receipt says %d bytes, %d were sent", r.Size, want.size)
	}
	return r, ""
}

// Deleted is what Remove did: the key and the bridge's receipt.
type Deleted struct {
	Key            string           `json:"key"`
	Receipt        *receipt.Receipt `json:"receipt,omitempty"`
	ReceiptProblem string           `json:"receipt_problem,omitempty"`
}

// Remove deletes an object (no error if it does not exist: S3 semantics)
// and returns the bridge's receipt of the deletion.
func (b *Bucket) Remove(ctx context.Context, key string) (*Deleted, error) {
	out, err := b.S3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(b.Name), Key: aws.String(key)})
	if err != nil {
		return nil, err
	}
	d := &Deleted{Key: key}
	d.Receipt, d.ReceiptProblem = receiptOf(out.ResultMetadata, receiptWant{res: b.Name, key: key, op: receipt.OpDelete})
	return d, nil
}

// Copy copies the object at srcKey to dstKey within the bucket (on the
// bridge, without passing the bytes through the client) and returns the
// new object with the bridge's receipt.
func (b *Bucket) Copy(ctx context.Context, srcKey, dstKey string) (*Object, error) {
	out, err := b.S3.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(b.Name), Key: aws.String(dstKey),
		CopySource: aws.String((&url.URL{Path: b.Name + "/" + srcKey}).EscapedPath())})
	if err != nil {
		return nil, err
	}
	o := &Object{Key: dstKey, Size: -1}
	if res := out.CopyObjectResult; res != nil {
		o.ETag, o.LastModified = trimETag(res.ETag), aws.ToTime(res.LastModified)
	}
	o.Receipt, o.ReceiptProblem = receiptOf(out.ResultMetadata, receiptWant{res: b.Name, key: dstKey, op: receipt.OpPut, size: -1})
	if o.Receipt != nil {
		o.Size = o.Receipt.Size
	}
	return o, nil
}
