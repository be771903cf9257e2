// Package s3front holds what the bridge and the gateway need to serve
// versitygw's S3 front (package s3api) on a listener of their own.
package s3front

import (
	"errors"
	"reflect"
	"unsafe"

	"github.com/gofiber/fiber/v3"
	"github.com/versity/versitygw/s3api"
)

// FiberApp returns the fiber app inside an S3ApiServer. versitygw only
// serves it on addresses it binds itself (ServeMultiPort); to serve on a
// caller's listener we need the app, an unexported field (checked here, so
// a versitygw upgrade that moves it fails loudly in New, and in the tests).
func FiberApp(srv *s3api.S3ApiServer) (*fiber.App, error) {
	f := reflect.ValueOf(srv).Elem().FieldByName("app")
	if !f.IsValid() || f.Type() != reflect.TypeOf((*fiber.App)(nil)) {
		return nil, errors.New("versitygw S3ApiServer has no app field of type *fiber.App")
	}
	app := *(**fiber.App)(unsafe.Pointer(f.UnsafeAddr()))
	if app == nil {
		return nil, errors.New("versitygw S3ApiServer has a nil app")
	}
	return app, nil
}
