package gateway

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

func TestNormalModeFolders(t *testing.T) {
	f := newFixture(t, ModeNormal, 3, 0)
	c := f.client(PermWrite)
	a, b := randBytes(2000), randBytes(3<<20)
	mustPut(t, c, "photos", "res-1/a.txt", a)
	mustPut(t, c, "photos", "res-2/sub/b.bin", b)
	mustPut(t, c, "photos", "res-2/c", []byte("c"))
	mustGetExact(t, c, "photos", "res-1/a.txt", a)
	mustGetExact(t, c, "photos", "res-2/sub/b.bin", b)
	// Each key lives only on its folder's member, under its own name.
	if has, _ := memberHas(t, f.members[0], "a.txt"); !has {
		t.Fatal("res-1/a.txt is not a.txt on res-1")
	}
	for _, m := range f.members[1:] {
		if has, _ := memberHas(t, m, "a.txt"); has {
			t.Fatalf("res-1/a.txt also on %s", m.id)
		}
	}
	if has, _ := memberHas(t, f.members[1], "sub/b.bin"); !has {
		t.Fatal("res-2/sub/b.bin is not sub/b.bin on res-2")
	}
	keys, prefixes := listAll(t, c, "photos", "", "/", 1000)
	if len(keys) != 0 || fmt.Sprint(prefixes) != "[res-1/ res-2/ res-3/]" {
		t.Fatalf("root listing: %v %v", keys, prefixes)
	}
	keys, _ = listAll(t, c, "photos", "", "", 1)
	if fmt.Sprint(keys) != "[res-1/a.txt res-2/c res-2/sub/b.bin]" {
		t.Fatalf("full listing, pages of 1: %v", keys)
	}
	keys, prefixes = listAll(t, c, "photos", "res-2/", "/", 1000)
	if fmt.Sprint(keys) != "[res-2/c]" || fmt.Sprint(prefixes) != "[res-2/sub/]" {
		t.Fatalf("folder listing: %v %v", keys, prefixes)
	}
	for _, bad := range []string{"loose.txt", "res-9/x", "res-1/"} {
		if err := put(t, c, "photos", bad, []byte("x")); apiCode(err) != "InvalidArgument" {
			t.Fatalf("put %q: %v", bad, err)
		}
	}
	// A member down takes only its folder away.
	f.members[0].stop(t)
	mustGetExact(t, c, "photos", "res-2/sub/b.bin", b)
	if _, err := get(c, "photos", "res-1/a.txt", ""); err == nil {
		t.Fatal("read from a stopped member's folder succeeded")
	}
	if _, err := c.DeleteObject(context.Background(), &s3.DeleteObjectInput{Bucket: aws.String("photos"), Key: aws.String("res-2/c")}); err != nil {
		t.Fatal(err)
	}
	if has, _ := memberHas(t, f.members[1], "c"); has {
		t.Fatal("delete did not reach the folder's member")
	}
}

func TestPerms(t *testing.T) {
	f := newFixture(t, ModeMirror, 3, 0)
	w, r := f.client(PermWrite), f.client(PermRead)
	data := randBytes(1000)
	mustPut(t, w, "photos", "k", data)
	mustGetExact(t, r, "photos", "k", data)
	if err := put(t, r, "photos", "k2", data); apiCode(err) != "AccessDenied" {
		t.Fatalf("read key put: %v", err)
	}
	if _, err := r.DeleteObject(context.Background(), &s3.DeleteObjectInput{Bucket: aws.String("photos"), Key: aws.String("k")}); apiCode(err) != "AccessDenied" {
		t.Fatalf("read key delete: %v", err)
	}
	// Another repository's key, a bucket that is not the key's.
	other := Key{AccessKeyID: "FBOTHER", Secret: randText(30), Repo: "other", Perm: PermAdmin}
	f.dir.SetRepo(Repo{Name: "other", Mode: ModeMirror, Members: f.repo.Members})
	f.dir.SetKey(other)
	oc := sdkClient(f.url, other.AccessKeyID, other.Secret)
	if _, err := get(oc, "photos", "k", ""); apiCode(err) != "AccessDenied" {
		t.Fatalf("other repo's key on photos: %v", err)
	}
	if _, err := get(w, "other", "k", ""); apiCode(err) != "AccessDenied" {
		t.Fatalf("photos key on other: %v", err)
	}
	bad := sdkClient(f.url, "FBNOSUCH", "x")
	if _, err := get(bad, "photos", "k", ""); apiCode(err) != "InvalidAccessKeyId" {
		t.Fatalf("unknown key: %v", err)
	}
	wrong := sdkClient(f.url, f.keys[PermRead].AccessKeyID, "wrong-secret")
	if _, err := get(wrong, "photos", "k", ""); apiCode(err) != "SignatureDoesNotMatch" {
		t.Fatalf("wrong secret: %v", err)
	}
	// A repository key is not a bridge key.
	if _, err := get(sdkClient(f.members[0].url, f.keys[PermAdmin].AccessKeyID, f.keys[PermAdmin].Secret), "res-1", "k", ""); apiCode(err) != "InvalidAccessKeyId" {
		t.Fatalf("repo key on a bridge: %v", err)
	}
	// Revocation takes effect at once.
	f.dir.DeleteKey(f.keys[PermRead].AccessKeyID)
	if _, err := get(r, "photos", "k", ""); apiCode(err) != "InvalidAccessKeyId" {
		t.Fatalf("revoked key: %v", err)
	}
}
