package repo

import (
	"strconv"

	"github.com/flashback-network/flashback/contract/accesskey"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/market"
)

// Every message acts on a repository of the signer (its owner); the name
// alone identifies it.

// MemberSpec names a reservation to add and the gateway's credential on
// it: an access key of the reservation (write or admin) and that key's
// secret sealed to the repository's gateway key.
type MemberSpec struct {
	Reservation  string `json:"reservation"`
	AccessKeyID  string `json:"access_key_id"`
	SealedSecret []byte `json:"sealed_secret"`
}

func (s *MemberSpec) validate(field string) error {
	if _, err := market.ParseResID(s.Reservation); err != nil {
		return core.Errf(core.CodeInvalidMessage, "%s.reservation: %v", field, err)
	}
	if !accesskey.ValidAccessKeyID(s.AccessKeyID) {
		return core.Errf(core.CodeInvalidMessage, "%s.access_key_id %q: want 16-32 characters of A-Z and 0-9 (an access key of the reservation)", field, s.AccessKeyID)
	}
	return checkSealed(field+".sealed_secret", s.SealedSecret)
}

func checkSealed(field string, b []byte) error {
	if len(b) < minSealedSecret || len(b) > maxSealedSecret {
		return core.Errf(core.CodeInvalidMessage, "%s is %d bytes: want the secret sealed to the gateway key (%d-%d bytes); never send a plaintext secret", field, len(b), minSealedSecret, maxSealedSecret)
	}
	return nil
}

func checkName(name string) error {
	if why := ValidName(name); why != "" {
		return core.Errf(core.CodeInvalidMessage, "repository name %q %s (S3 bucket name rules)", name, why)
	}
	return nil
}

// MsgCreate creates a repository with its first members (all active: the
// repository is empty).
type MsgCreate struct {
	Name string `json:"name"`
	Mode string `json:"mode"`
	// Quorum is the mirror write quorum; 0 takes a majority of the members.
	Quorum        uint32       `json:"write_quorum,omitempty"`
	NoEncryption  bool         `json:"no_encryption,omitempty"`
	GatewayPubKey []byte       `json:"gateway_pub_key"`
	Members       []MemberSpec `json:"members"`
}

func (m *MsgCreate) ValidateBasic() error {
	if err := checkName(m.Name); err != nil {
		return err
	}
	switch m.Mode {
	case ModeMirror:
	case ModeNormal:
		if m.Quorum != 0 {
			return core.Errf(core.CodeInvalidMessage, "write_quorum %d: a normal repository has no write quorum (each member is its own folder); leave it out", m.Quorum)
		}
	default:
		return core.Errf(core.CodeInvalidMessage, "mode %q: want normal or mirror", m.Mode)
	}
	if len(m.GatewayPubKey) != 32 {
		return core.Errf(core.CodeInvalidMessage, "gateway_pub_key is %d bytes: want the gateway's 32-byte X25519 public key", len(m.GatewayPubKey))
	}
	if len(m.Members) == 0 {
		return core.Errf(core.CodeInvalidMessage, "members: give at least one reservation")
	}
	if len(m.Members) > MaxMembers {
		return core.Errf(core.CodeLimitExceeded, "%d members: a repository has at most %d", len(m.Members), MaxMembers)
	}
	for i := range m.Members {
		if err := m.Members[i].validate("members[" + strconv.Itoa(i) + "]"); err != nil {
			return err
		}
	}
	return nil
}

// MsgAddMember adds a reservation. In a mirror repository the new member
// joins as "joining" (the repair loop fills it, then member_synced makes it
// active); in a normal one it is active at once (its folder starts empty).
type MsgAddMember struct {
	Repo   string     `json:"repo"`
	Member MemberSpec `json:"member"`
}

func (m *MsgAddMember) ValidateBasic() error {
	if err := checkName(m.Repo); err != nil {
		return err
	}
	return m.Member.validate("member")
}

// MsgRemoveMember drops a member (a joining one too: that cancels its
// replacement).
type MsgRemoveMember struct {
	Repo        string `json:"repo"`
	Reservation string `json:"reservation"`
}

func (m *MsgRemoveMember) ValidateBasic() error { return checkRepoRes(m.Repo, m.Reservation) }

func checkRepoRes(name, res string) error {
	if err := checkName(name); err != nil {
		return err
	}
	if _, err := market.ParseResID(res); err != nil {
		return core.Errf(core.CodeInvalidMessage, "reservation: %v", err)
	}
	return nil
}

// MsgReplaceMember swaps an active member for a new reservation: the new
// one joins as "joining", the old one becomes "retiring"; both stay until
// member_synced names the new one.
type MsgReplaceMember struct {
	Repo   string     `json:"repo"`
	Old    string     `json:"old_reservation"`
	Member MemberSpec `json:"member"`
}

func (m *MsgReplaceMember) ValidateBasic() error {
	if err := checkRepoRes(m.Repo, m.Old); err != nil {
		return err
	}
	if err := m.Member.validate("member"); err != nil {
		return err
	}
	if m.Member.Reservation == m.Old {
		return core.Errf(core.CodeInvalidMessage, "member.reservation %s is the member being replaced; name a new reservation", m.Old)
	}
	return nil
}

// MsgMemberSynced says a joining member holds a full copy: it becomes
// active and the member it replaces (if any) leaves. The repair loop sends
// it once the new member is level.
type MsgMemberSynced struct {
	Repo        string `json:"repo"`
	Reservation string `json:"reservation"`
}

func (m *MsgMemberSynced) ValidateBasic() error { return checkRepoRes(m.Repo, m.Reservation) }

// MsgSetQuorum sets a mirror repository's write quorum.
type MsgSetQuorum struct {
	Repo   string `json:"repo"`
	Quorum uint32 `json:"write_quorum"`
}

func (m *MsgSetQuorum) ValidateBasic() error {
	if err := checkName(m.Repo); err != nil {
		return err
	}
	if m.Quorum == 0 {
		return core.Errf(core.CodeInvalidMessage, "write_quorum 0: want at least 1")
	}
	return nil
}

// MsgDelete deletes a repository and its keys. The members' reservations
// and their data are not touched.
type MsgDelete struct {
	Repo string `json:"repo"`
}

func (m *MsgDelete) ValidateBasic() error { return checkName(m.Repo) }

// MsgCreateKey registers an S3 key of the gateway's bucket for a
// repository; the secret is sealed to the repository's gateway key.
type MsgCreateKey struct {
	Repo         string `json:"repo"`
	ID           string `json:"id"`
	Perm         string `json:"perm"`
	SealedSecret []byte `json:"sealed_secret"`
}

func (m *MsgCreateKey) ValidateBasic() error {
	if err := checkName(m.Repo); err != nil {
		return err
	}
	if !accesskey.ValidAccessKeyID(m.ID) {
		return core.Errf(core.CodeInvalidMessage, "id %q: want 16-32 characters of A-Z and 0-9", m.ID)
	}
	switch m.Perm {
	case accesskey.PermRead, accesskey.PermWrite, accesskey.PermAdmin:
	default:
		return core.Errf(core.CodeInvalidMessage, "perm %q: want read, write or admin", m.Perm)
	}
	return checkSealed("sealed_secret", m.SealedSecret)
}

// MsgRevokeKey deletes a repo key; the gateway stops accepting it within a
// block.
type MsgRevokeKey struct {
	ID string `json:"id"`
}

func (m *MsgRevokeKey) ValidateBasic() error {
	if !accesskey.ValidAccessKeyID(m.ID) {
		return core.Errf(core.CodeInvalidMessage, "id %q: want 16-32 characters of A-Z and 0-9", m.ID)
	}
	return nil
}
