package accesskey

import (
	"github.com/flashback-network/flashback/api/types"
)

// View is the REST view of the record.
func (r *AccessKey) View() types.AccessKey {
	v := types.AccessKey{
		ID:           r.ID,
		Reservation:  r.Reservation,
		Unit:         r.Unit,
		Provider:     r.Provider,
		Owner:        r.Owner,
		Perm:         r.Perm,
		SealedSecret: r.SealedSecret,
		CreatedAt:    r.CreatedAt,
	}
	return v
}
