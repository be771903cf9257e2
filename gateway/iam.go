package gateway

import (
	"context"
	"strings"

	"github.com/versity/versitygw/auth"
	"github.com/versity/versitygw/s3err"
)

// iam adapts the Directory's repository keys to versitygw's IAMService
// (the secret of a key) and PolicyEvaluator (may it do these actions on
// this bucket), as bridge/iam.go does for reservation keys: the backend
// has no bucket policies or ACL grants, so this decision is the only way a
// request is allowed. A key works only on its own repository's bucket.
type iam struct{ dir Directory }

var (
	_ auth.IAMService      = (*iam)(nil)
	_ auth.PolicyEvaluator = (*iam)(nil)
)

func (i *iam) GetUserAccount(access string) (auth.Account, error) {
	k, err := i.dir.Key(context.Background(), access)
	if err != nil || k.Secret == "" {
		return auth.Account{}, auth.ErrNoSuchUser
	}
	return auth.Account{Access: k.AccessKeyID, Secret: k.Secret, Role: auth.RoleUser}, nil
}

func (i *iam) ResolveAccounts(ids []string) ([]string, error) {
	var missing []string
	for _, id := range ids {
		if _, err := i.dir.Key(context.Background(), id); err != nil {
			missing = append(missing, id)
		}
	}
	return missing, nil
}

func notSupported() error { return s3err.GetAPIError(s3err.ErrAdminMethodNotSupported) }

func (i *iam) CreateAccount(auth.Account) error                  { return notSupported() }
func (i *iam) UpdateUserAccount(string, auth.MutableProps) error { return notSupported() }
func (i *iam) DeleteUserAccount(string) error                    { return notSupported() }
func (i *iam) ListUserAccounts() ([]auth.Account, error)         { return nil, notSupported() }
func (i *iam) Shutdown() error                                   { return nil }

// Decision values of versitygw's unexported policy decision type (see
// bridge/iam.go; TestPerms fails if they change).
const (
	decisionNoMatch = 0
	decisionAllow   = 1
)

func (i *iam) EvaluatePolicy(access, _ string, actions []auth.Action, resources []string, _ map[string][]string) (auth.PolicyEvaluation, error) {
	var ev auth.PolicyEvaluation
	k, err := i.dir.Key(context.Background(), access)
	known := err == nil
	for _, res := range resources {
		ev.Decisions = append(ev.Decisions, nil)
		row := len(ev.Decisions) - 1
		bucket, _, _ := strings.Cut(strings.TrimPrefix(res, auth.ResourceArnPrefix), "/")
		for _, a := range actions {
			if known && allowed(k, bucket, a) {
				ev.Decisions[row] = append(ev.Decisions[row], decisionAllow)
			} else {
				ev.Decisions[row] = append(ev.Decisions[row], decisionNoMatch)
			}
		}
	}
	return ev, nil
}

func allowed(k Key, bucket string, a auth.Action) bool {
	if a == auth.ListAllMyBucketsAction {
		return bucket == "*" && permCovers(k.Perm, PermRead)
	}
	if bucket != k.Repo {
		return false
	}
	return permCovers(k.Perm, actionPerm(a))
}

// actionPerm is the least permission an action needs.
func actionPerm(a auth.Action) string {
	switch a {
	case auth.PutObjectAction, auth.DeleteObjectAction, auth.AbortMultipartUploadAction, auth.CreateBucketAction:
		return PermWrite
	}
	s := string(a)
	if strings.HasPrefix(s, "s3:Get") || strings.HasPrefix(s, "s3:List") {
		return PermRead
	}
	return PermAdmin
}

func permCovers(have, need string) bool {
	rank := map[string]int{PermRead: 1, PermWrite: 2, PermAdmin: 3}
	return rank[have] > 0 && rank[have] >= rank[need]
}
