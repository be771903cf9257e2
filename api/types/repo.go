package types

import "github.com/flashback-network/flashback/contract/core"

// Repositories: a consumer's bucket over several reservations, served by
// its gateway.

// Member health and repository status, computed at query time.
const (
	HealthOK       = "ok"
	HealthDegraded = "degraded"
)

// RepoMember is one member of a repository with what a gateway needs to
// reach it (the provider's bridge endpoint and the sealed credential) and
// its health as of the last block.
type RepoMember struct {
	Reservation    string `json:"reservation"`
	Unit           string `json:"unit"`
	Provider       string `json:"provider"`
	BridgeEndpoint string `json:"bridge_endpoint"`
	// State is active, joining (being filled; not counted for the write
	// quorum) or retiring (being replaced; served until the replacement is
	// synced).
	State string `json:"state"`
	// Replaces is, for a joining member, the retiring member it replaces.
	Replaces string `json:"replaces,omitempty"`
	// AccessKeyID is the reservation's access key the gateway uses on the
	// bridge; SealedSecret is its secret sealed to the gateway key.
	AccessKeyID  string    `json:"access_key_id"`
	SealedSecret []byte    `json:"sealed_secret"`
	JoinedAt     core.Time `json:"joined_at"`
	// ReservationStatus is the market status of the reservation.
	ReservationStatus string `json:"reservation_status"`
	// Health is ok or degraded; HealthReason says why it is degraded.
	Health       string `json:"health"`
	HealthReason string `json:"health_reason,omitempty"`
	// Live is what the gateway measures of the member (objects, bytes,
	// lag, errors). The chain never sets it; a gateway's status endpoint
	// fills it in its own answers.
	Live *RepoMemberLive `json:"live,omitempty"`
}

// RepoMemberLive is the gateway's live view of one member, filled by the
// gateway and its repair loop (not by the chain).
type RepoMemberLive struct {
	Objects      uint64    `json:"objects"`
	Bytes        uint64    `json:"bytes"`
	BehindBy     uint64    `json:"behind_by"`
	LastError    string    `json:"last_error,omitempty"`
	LastFullScan core.Time `json:"last_full_scan,omitempty"`
}

// Repo is the REST view of a repository.
type Repo struct {
	Owner string `json:"owner"`
	Name  string `json:"name"`
	Mode  string `json:"mode"`
	// WriteQuorum is how many serving members must acknowledge a write
	// (mirror); 0 in normal mode.
	WriteQuorum   uint32       `json:"write_quorum"`
	Encrypted     bool         `json:"encrypted"`
	GatewayPubKey []byte       `json:"gateway_pub_key"`
	Members       []RepoMember `json:"members"`
	CreatedAt     core.Time    `json:"created_at"`
	UpdatedAt     core.Time    `json:"updated_at"`
	// Status is ok when every member is healthy, degraded otherwise;
	// StatusReason says what is wrong and whether writes still reach the
	// quorum.
	Status         string `json:"status"`
	StatusReason   string `json:"status_reason,omitempty"`
	HealthyMembers uint32 `json:"healthy_members"`
	// BelowQuorum is set when fewer healthy serving members than the
	// write quorum remain: mirror writes fail until a member is replaced.
	BelowQuorum bool `json:"below_quorum"`
}

// ReposPage is the "repos" query result.
type ReposPage struct {
	Repos      []Repo `json:"repos"`
	NextCursor string `json:"next_cursor"`
}

// RepoKey is an S3 key of a repository's gateway bucket. The secret is
// sealed to the repository's gateway key; bridges never accept it.
type RepoKey struct {
	ID           string    `json:"id"`
	Owner        string    `json:"owner"`
	Repo         string    `json:"repo"`
	Perm         string    `json:"perm"`
	SealedSecret []byte    `json:"sealed_secret"`
	CreatedAt    core.Time `json:"created_at"`
}

// RepoKeysPage is the "repo-keys" query result.
type RepoKeysPage struct {
	Keys       []RepoKey `json:"keys"`
	NextCursor string    `json:"next_cursor"`
}
