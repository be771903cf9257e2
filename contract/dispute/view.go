package dispute

import (
	"encoding/hex"

	"github.com/flashback-network/flashback/api/types"
)

// View is the REST view of the record.
func (d *Dispute) View() types.Dispute {
	v := types.Dispute{
		ID: d.ID, Reservation: d.Reservation, Unit: d.Unit, Provider: d.Provider, Consumer: d.Consumer,
		Kind: d.Kind, Status: d.Status, Deposit: d.Deposit, OpenedAt: d.OpenedAt, Deadline: d.Deadline, Epoch: d.Epoch,
		Receipt: d.Receipt, Key: d.Key, Size: d.Size, PartSizes: d.PartSizes, Epochs: d.Epochs,
		EgressEpoch: d.EgressEpoch, ClaimedEgress: d.ClaimedEgress, ReportedEgress: d.ReportedEgress,
		AccessKeyID: d.AccessKeyID, Panel: []types.DisputeSeat{}, VerdictsGiven: d.VerdictsGiven,
		Slashed: d.Slashed, EgressRefund: d.EgressRefund, EpochRefund: d.EpochRefund, DepositTo: d.DepositTo, ClosedAt: d.ClosedAt,
	}
	if len(d.ContentHash) > 0 {
		v.ContentHash = hex.EncodeToString(d.ContentHash)
	}
	for _, s := range d.Panel {
		v.Panel = append(v.Panel, types.DisputeSeat{Oracle: s.Oracle, SealedSecret: s.SealedSecret, Verdict: s.Verdict, Observed: s.Observed, At: s.At})
	}
	return v
}

// View is the REST view of the record.
func (c *ConsumerCounts) View() types.DisputeConsumerCounts {
	return types.DisputeConsumerCounts{Opened: c.Opened, Open: c.Open, Upheld: c.Upheld, Rejected: c.Rejected, Undecided: c.Undecided}
}

// View is the REST view of the record.
func (c *ProviderCounts) View() types.DisputeProviderCounts {
	return types.DisputeProviderCounts{Against: c.Against, Open: c.Open, Upheld: c.Upheld, Rejected: c.Rejected, Undecided: c.Undecided}
}

// View is the REST view of the record.
func (s *Stats) View() types.DisputeStats {
	return types.DisputeStats{Opened: s.Opened, Upheld: s.Upheld, Rejected: s.Rejected, Undecided: s.Undecided, Verdicts: s.Verdicts,
		Slashed: s.Slashed, EgressRefunded: s.EgressRefunded, DepositsToOracles: s.DepositsToOracles, EpochsRefunded: s.EpochsRefunded}
}
