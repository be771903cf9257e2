package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/flashback-network/flashback/gateway"
	"github.com/flashback-network/flashback/gateway/chaindir"
	"github.com/flashback-network/flashback/keyring"
	"github.com/flashback-network/flashback/sealed"
)

// demoGateway is the in-process gateway (chain mode) of the demo. It is
// built here rather than with runGateway (gateway.go) because the demo
// reads its repair status, which runGateway does not hand out.
type demoGateway struct {
	gw  *gateway.Gateway
	url string
}

func (d *demo) demoGatewayKey() (*[sealed.KeySize]byte, error) {
	pub, _, _, err := chaindir.LoadOrCreateKey(filepath.Join(d.home, "gateway", "key.json"))
	return pub, err
}

// startDemoGateway runs the gateway over alice's repositories with a fast
// repair loop (1 s scans, short backoff) until the demo ends.
func (d *demo) startDemoGateway(ctx context.Context) (*demoGateway, error) {
	pub, priv, err := chaindir.LoadKey(filepath.Join(d.home, "gateway", "key.json"))
	if err != nil {
		return nil, err
	}
	logf := func(format string, args ...any) { fmt.Fprintf(d.logw, "gateway: "+format+"\n", args...) }
	dir, err := chaindir.New(ctx, d.c, pub, priv, chaindir.Options{Owners: []string{d.alice.Address()},
		PollInterval: 200 * time.Millisecond, MinInterval: 200 * time.Millisecond, Logf: logf})
	if err != nil {
		return nil, err
	}
	go dir.Run(d.ctx)
	gw, err := gateway.New(d.ctx, gateway.Config{Directory: dir, StateDir: filepath.Join(d.home, "gateway", "state"), Logf: logf,
		StallTimeout: 3 * time.Second,
		Repair: &gateway.RepairConfig{ScanInterval: time.Second, Refresh: 200 * time.Millisecond,
			BackoffBase: 200 * time.Millisecond, BackoffMax: time.Second}})
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	go func() { _ = gw.Serve(ln) }()
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		<-d.ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = gw.Shutdown(sctx)
	}()
	return &demoGateway{gw: gw, url: "http://" + ln.Addr().String()}, nil
}

func demoS3(url, id, secret string) *s3.Client {
	return s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(url), UsePathStyle: true, RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(id, secret, "")})
}

func s3Put(ctx context.Context, c *s3.Client, bucket, key string, data []byte) error {
	_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(data)})
	return err
}

func s3Get(ctx context.Context, c *s3.Client, bucket, key string) ([]byte, error) {
	o, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return nil, err
	}
	defer o.Body.Close()
	return io.ReadAll(o.Body)
}

// repoUpload starts the gateway, waits until it knows the repo key (the
// first PUT succeeds), and uploads demoRepoObjects random objects.
func (d *demo) repoUpload(ctx context.Context) (string, error) {
	rs := &d.repo
	var err error
	if rs.gw, err = d.startDemoGateway(ctx); err != nil {
		return "", err
	}
	d.rep.Repo.Gateway = rs.gw.url
	c := demoS3(rs.gw.url, rs.repoKeyID, rs.repoKeySecret)
	rs.objects = map[string][]byte{}
	var total int64
	for i := range demoRepoObjects {
		data := make([]byte, demoRepoObjSize+i*1000)
		_, _ = rand.Read(data)
		key := fmt.Sprintf("photos/%d.bin", i)
		if i == 0 {
			// The directory may not have loaded the new repo key yet.
			err = poll(ctx, 200*time.Millisecond, func() (bool, error) { return true, s3Put(ctx, c, demoRepoName, key, data) })
		} else {
			err = s3Put(ctx, c, demoRepoName, key, data)
		}
		if err != nil {
			return "", fmt.Errorf("put %s through the gateway: %w", key, err)
		}
		rs.objects[key] = data
		total += int64(len(data))
	}
	d.rep.Repo.Objects, d.rep.Repo.Bytes = len(rs.objects), total
	// Both members must hold them before the kill (a scan after the
	// uploads says so), or the kill proves little.
	uploaded := time.Now()
	if err := poll(ctx, 100*time.Millisecond, func() (bool, error) {
		return d.memberLevel(rs.memberA, uploaded) && d.memberLevel(rs.memberC, uploaded), nil
	}); err != nil {
		return "", fmt.Errorf("member C not level before the kill: %w", err)
	}
	return fmt.Sprintf("%d objects, %d bytes into s3://%s at %s; both members level", len(rs.objects), total, demoRepoName, rs.gw.url), nil
}

// memberLevel: the gateway's repair status has member level (a full scan
// listed it completely, behind by 0), by a scan that ended after since.
func (d *demo) memberLevel(member string, since time.Time) bool {
	st, err := d.repo.gw.gw.RepairStatus(demoRepoName)
	if err != nil {
		return false
	}
	for _, m := range st.Members {
		if m.ID == member {
			return m.Level && m.BehindBy == 0 && d.repo.gw.gw.MemberLevel(demoRepoName, member) &&
				m.LastFullScan != nil && m.LastFullScan.After(since)
		}
	}
	return false
}

// repoKillMember stops bridge C, reads every object back through the
// gateway (all must be exact) and writes one more.
func (d *demo) repoKillMember(ctx context.Context) (string, error) {
	rs := &d.repo
	rs.stopC()
	select {
	case <-rs.doneC:
	case <-ctx.Done():
		return "", fmt.Errorf("bridge C did not stop: %w", ctx.Err())
	}
	d.rep.Repo.Killed, d.rep.Repo.KilledUnit = rs.memberC, rs.unitC
	if _, err := s3Get(ctx, demoS3("http://"+rs.cfgC.Listen, rs.keyC, rs.secretC), rs.memberC, "photos/0.bin"); err == nil {
		return "", fmt.Errorf("bridge C at %s still serves after being stopped", rs.cfgC.Listen)
	}
	c := demoS3(rs.gw.url, rs.repoKeyID, rs.repoKeySecret)
	exact := 0
	for key, want := range rs.objects {
		d.rep.Repo.ReadsAfterKill++
		got, err := s3Get(ctx, c, demoRepoName, key)
		if err != nil {
			return "", fmt.Errorf("get %s with C down: %w", key, err)
		}
		if !bytes.Equal(got, want) {
			return "", fmt.Errorf("get %s with C down: %d bytes that differ from the %d uploaded", key, len(got), len(want))
		}
		exact++
		d.rep.Repo.ReadsExact = exact
	}
	data := make([]byte, demoRepoObjSize)
	_, _ = rand.Read(data)
	key := "photos/while-c-was-down.bin"
	if err := s3Put(ctx, c, demoRepoName, key, data); err != nil {
		return "", fmt.Errorf("put %s with C down: %w", key, err)
	}
	got, err := s3Get(ctx, c, demoRepoName, key)
	if err != nil || !bytes.Equal(got, data) {
		return "", fmt.Errorf("read back %s with C down: %d bytes, err %v", key, len(got), err)
	}
	rs.objects[key] = data
	d.rep.Repo.PutAfterKill = true
	return fmt.Sprintf("bridge C (member %s) stopped; %d of %d GETs exact; PUT %s (%d bytes) ok on A alone",
		rs.memberC, exact, d.rep.Repo.ReadsAfterKill, key, len(data)), nil
}

// repoRepairLevel restarts bridge C and waits until the repair loop
// finds it level again by a scan after the restart, then checks C's own
// bucket holds the object written while it was down.
func (d *demo) repoRepairLevel(ctx context.Context) (string, error) {
	rs := &d.repo
	kr, err := keyring.Open(filepath.Join(d.home, "keyring"))
	if err != nil {
		return "", err
	}
	priv, err := kr.PrivKey(demoProvider3Key, nil)
	if err != nil {
		return "", err
	}
	rs.restartedAt = time.Now()
	if err := d.startBridgeC(ctx, priv); err != nil {
		return "", fmt.Errorf("restart bridge C: %w", err)
	}
	if err := poll(ctx, 100*time.Millisecond, func() (bool, error) { return d.memberLevel(rs.memberC, rs.restartedAt), nil }); err != nil {
		return "", fmt.Errorf("member C not level after the restart: %w", err)
	}
	d.rep.Repo.LevelSeconds = round1(time.Since(rs.restartedAt).Seconds())
	d.rep.Repo.Level = true
	if st, err := rs.gw.gw.RepairStatus(demoRepoName); err == nil {
		for _, m := range st.Members {
			if m.ID == rs.memberC {
				d.rep.Repo.RepairedObjects = m.RepairedObjects
			}
		}
	}
	bc := demoS3("http://"+rs.cfgC.Listen, rs.keyC, rs.secretC)
	key := "photos/while-c-was-down.bin"
	got, err := s3Get(ctx, bc, rs.memberC, key)
	if err != nil {
		return "", fmt.Errorf("read %s from bridge C directly: %w", key, err)
	}
	if !bytes.Equal(got, rs.objects[key]) {
		return "", fmt.Errorf("bridge C holds %d bytes of %s that differ from the %d written", len(got), key, len(rs.objects[key]))
	}
	return fmt.Sprintf("member %s level %.1f s after the restart (%d objects repaired); C's own bucket has %s exact",
		rs.memberC, d.rep.Repo.LevelSeconds, d.rep.Repo.RepairedObjects, key), nil
}
