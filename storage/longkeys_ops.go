package storage

import (
	"context"
	"io"
	"strings"
)

// metaCopier is implemented by backends that can copy an object with other
// user metadata than the source's, server-side and in one step: the
// long-key wrapper needs it to give a copy its own key tail.
type metaCopier interface {
	// copyWithMeta is Copy, with the destination's user metadata
	// edit(source's) (edit sees and returns the raw backend entries,
	// metaLongKey included).
	copyWithMeta(ctx context.Context, src, dst string, edit func(map[string]string) map[string]string) (ObjectInfo, error)
}

// Copy maps both keys. A long key's tail is in its metadata, so a copy
// from or to one rewrites that entry (dst's tail, or none).
func (w *longKeys) Copy(ctx context.Context, src, dst string) (ObjectInfo, error) {
	sn, err := w.stored(src)
	if err != nil {
		return ObjectInfo{}, err
	}
	dn, err := w.stored(dst)
	if err != nil {
		return ObjectInfo{}, err
	}
	if sn == src && dn == dst {
		info, err := w.inner.Copy(ctx, sn, dn)
		if err != nil {
			return ObjectInfo{}, err
		}
		return clean(info, dst), nil
	}
	edit := func(m map[string]string) map[string]string { return w.withKey(dst, ObjectMeta{UserMeta: m}).UserMeta }
	var info ObjectInfo
	if mc, ok := w.inner.(metaCopier); ok {
		info, err = mc.copyWithMeta(ctx, sn, dn, edit)
	} else {
		info, err = copyByStreaming(ctx, w.inner, sn, dn, edit)
	}
	if err != nil {
		return ObjectInfo{}, err
	}
	return clean(info, dst), nil
}

// copyByStreaming copies src to dst through this process, for backends
// without copyWithMeta.
func copyByStreaming(ctx context.Context, b Backend, src, dst string, edit func(map[string]string) map[string]string) (ObjectInfo, error) {
	rc, info, err := b.Get(ctx, src, nil)
	if err != nil {
		return ObjectInfo{}, err
	}
	defer rc.Close()
	return b.Put(ctx, dst, rc, info.Size, ObjectMeta{ContentType: info.ContentType, UserMeta: edit(info.UserMeta)})
}

func (w *longKeys) Compose(ctx context.Context, dst string, parts []string, meta ObjectMeta) (ObjectInfo, error) {
	dn, err := w.stored(dst)
	if err != nil {
		return ObjectInfo{}, err
	}
	names := make([]string, len(parts))
	for i, p := range parts {
		if names[i], err = w.stored(p); err != nil {
			return ObjectInfo{}, err
		}
	}
	info, err := Compose(ctx, w.inner, dn, names, w.withKey(dst, meta))
	if err != nil {
		return ObjectInfo{}, err
	}
	return clean(info, dst), nil
}

// longKeysReplace forwards Replacer (only offered when the inner backend
// has it).
type longKeysReplace struct{ w *longKeys }

func (r longKeysReplace) PutReplace(ctx context.Context, key string, body io.Reader, size int64, meta ObjectMeta) (ObjectInfo, Replaced, error) {
	name, err := r.w.stored(key)
	if err != nil {
		return ObjectInfo{}, Replaced{}, err
	}
	info, old, err := r.w.inner.(Replacer).PutReplace(ctx, name, body, size, r.w.withKey(key, meta))
	if err != nil {
		return ObjectInfo{}, Replaced{}, err
	}
	return clean(info, key), old, nil
}

// longKeysUploads forwards Uploader (only offered when the inner backend
// has it). The upload is made under the stored name, with the key's tail
// in its metadata, so the completed object is found and listed like any.
type longKeysUploads struct{ w *longKeys }

func (u longKeysUploads) inner() Uploader { return u.w.inner.(Uploader) }

func (u longKeysUploads) CreateUpload(ctx context.Context, key string, meta ObjectMeta) (string, error) {
	name, err := u.w.stored(key)
	if err != nil {
		return "", err
	}
	return u.inner().CreateUpload(ctx, name, u.w.withKey(key, meta))
}

func (u longKeysUploads) PutUploadPart(ctx context.Context, key, uploadID string, num int, r io.Reader, size int64) (UploadPart, error) {
	name, err := u.w.stored(key)
	if err != nil {
		return UploadPart{}, err
	}
	return u.inner().PutUploadPart(ctx, name, uploadID, num, r, size)
}

func (u longKeysUploads) UploadParts(ctx context.Context, key, uploadID string) ([]UploadPart, error) {
	name, err := u.w.stored(key)
	if err != nil {
		return nil, err
	}
	return u.inner().UploadParts(ctx, name, uploadID)
}

func (u longKeysUploads) CompleteUpload(ctx context.Context, key, uploadID string, parts []UploadPart) (ObjectInfo, error) {
	name, err := u.w.stored(key)
	if err != nil {
		return ObjectInfo{}, err
	}
	info, err := u.inner().CompleteUpload(ctx, name, uploadID, parts)
	if err != nil {
		return ObjectInfo{}, err
	}
	return clean(info, key), nil
}

func (u longKeysUploads) AbortUpload(ctx context.Context, key, uploadID string) error {
	name, err := u.w.stored(key)
	if err != nil {
		return err
	}
	return u.inner().AbortUpload(ctx, name, uploadID)
}

// azMetaEntry looks name up in Azure metadata (whose names come back in
// any case).
func azMetaEntry(m map[string]*string, name string) (string, bool) {
	for k, v := range m {
		if strings.EqualFold(k, name) {
			return deref(v), true
		}
	}
	return "", false
}
