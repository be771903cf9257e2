package bridge

import (
	"strings"

	"github.com/versity/versitygw/auth"
	"github.com/versity/versitygw/s3err"
)

// iam adapts Keys to versitygw's IAMService (authentication: the secret of
// an access key) and PolicyEvaluator (authorization: may this key do these
// actions on these resources).
//
// How authorization works with versitygw: every S3 controller calls
// auth.VerifyAccess, which combines the bucket's resource decision (bucket
// policy, or ACL absent one) with the IAM service's identity decision when
// the IAM service implements auth.PolicyEvaluator. Our backend has no bucket
// policies and empty bucket ACLs (owner: the bridge's private root, no
// grants), so the resource decision never allows anything, and the identity
// decision made here is the only way a request is allowed: the key's bucket
// must be the resource's bucket and the key's permission must cover every
// action. Keys never get versitygw's admin role (which bypasses all checks).
type iam struct {
	keys Keys
}

var (
	_ auth.IAMService      = (*iam)(nil)
	_ auth.PolicyEvaluator = (*iam)(nil)
)

// GetUserAccount returns the account (with its secret) of an access key, or
// auth.ErrNoSuchUser, which the signature middleware turns into
// InvalidAccessKeyId.
func (i *iam) GetUserAccount(access string) (auth.Account, error) {
	k, ok := i.keys.Lookup(access)
	if !ok || k.Secret == "" {
		return auth.Account{}, auth.ErrNoSuchUser
	}
	return auth.Account{Access: k.AccessKeyID, Secret: k.Secret, Role: auth.RoleUser}, nil
}

func (i *iam) ResolveAccounts(ids []string) ([]string, error) {
	var missing []string
	for _, id := range ids {
		if _, ok := i.keys.Lookup(id); !ok {
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

// Decision values of versitygw's unexported auth.policyDecision type
// (policyDecisionNoMatch = 0, policyDecisionAllow = 1, policyDecisionDeny =
// 2 in v1.8.0). They are untyped constants so they convert to the unexported
// element type of PolicyEvaluation.Decisions; TestAuthorization fails if the
// numbering ever changes.
const (
	decisionNoMatch = 0
	decisionAllow   = 1
)

// EvaluatePolicy implements auth.PolicyEvaluator: Allow where the key's
// reservation bucket is the resource's bucket and its permission covers all
// actions, NoMatch (an implicit deny: 403 AccessDenied) elsewhere.
func (i *iam) EvaluatePolicy(access, _ string, actions []auth.Action, resources []string, _ map[string][]string) (auth.PolicyEvaluation, error) {
	var ev auth.PolicyEvaluation
	k, known := i.keys.Lookup(access)
	for _, res := range resources {
		ev.Decisions = append(ev.Decisions, nil)
		row := len(ev.Decisions) - 1
		bucket, _, _ := strings.Cut(strings.TrimPrefix(res, auth.ResourceArnPrefix), "/")
		for _, a := range actions {
			ok := known && allowed(k, bucket, a)
			if ok {
				ev.Decisions[row] = append(ev.Decisions[row], decisionAllow)
			} else {
				ev.Decisions[row] = append(ev.Decisions[row], decisionNoMatch)
			}
		}
	}
	return ev, nil
}

// allowed says whether key k may perform action a on bucket.
func allowed(k Key, bucket string, a auth.Action) bool {
	if a == auth.ListAllMyBucketsAction {
		return bucket == "*" && permCovers(k.Perm, PermRead)
	}
	if bucket != k.Bucket {
		return false
	}
	return permCovers(k.Perm, actionPerm(a))
}

// actionPerm is the least permission an action needs.
func actionPerm(a auth.Action) string {
	switch a {
	case auth.PutObjectAction, auth.DeleteObjectAction, auth.AbortMultipartUploadAction,
		auth.CreateBucketAction, auth.PutObjectTaggingAction, auth.DeleteObjectTaggingAction:
		return PermWrite
	}
	s := string(a)
	if strings.HasPrefix(s, "s3:Get") || strings.HasPrefix(s, "s3:List") {
		return PermRead
	}
	return PermAdmin
}

func permCovers(have, need string) bool {
	rank := func(p string) int {
		switch p {
		case PermRead:
			return 1
		case PermWrite:
			return 2
		case PermAdmin:
			return 3
		}
		return 0
	}
	return rank(have) > 0 && rank(have) >= rank(need)
}
