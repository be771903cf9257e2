package market

// Type is the wire name of MsgRegisterProvider.
func (*MsgRegisterProvider) Type() string { return "market/register_provider" }

// Type is the wire name of MsgUpdateProvider.
func (*MsgUpdateProvider) Type() string { return "market/update_provider" }

// Type is the wire name of MsgStake.
func (*MsgStake) Type() string { return "market/stake" }

// Type is the wire name of MsgUnstake.
func (*MsgUnstake) Type() string { return "market/unstake" }

// Type is the wire name of MsgDeregisterProvider.
func (*MsgDeregisterProvider) Type() string { return "market/deregister_provider" }

// Type is the wire name of MsgAddUnit.
func (*MsgAddUnit) Type() string { return "market/add_unit" }

// Type is the wire name of MsgUpdateUnit.
func (*MsgUpdateUnit) Type() string { return "market/update_unit" }

// Type is the wire name of MsgUnitMaintenance.
func (*MsgUnitMaintenance) Type() string { return "market/unit_maintenance" }

// Type is the wire name of MsgDecommissionUnit.
func (*MsgDecommissionUnit) Type() string { return "market/decommission_unit" }

// Type is the wire name of MsgDeleteUnit.
func (*MsgDeleteUnit) Type() string { return "market/delete_unit" }

// Type is the wire name of MsgReserve.
func (*MsgReserve) Type() string { return "market/reserve" }

// Type is the wire name of MsgAcceptReservation.
func (*MsgAcceptReservation) Type() string { return "market/accept_reservation" }

// Type is the wire name of MsgRejectReservation.
func (*MsgRejectReservation) Type() string { return "market/reject_reservation" }

// Type is the wire name of MsgTopUp.
func (*MsgTopUp) Type() string { return "market/topup" }

// Type is the wire name of MsgExtend.
func (*MsgExtend) Type() string { return "market/extend" }

// Type is the wire name of MsgResize.
func (*MsgResize) Type() string { return "market/resize" }

// Type is the wire name of MsgCloseReservation.
func (*MsgCloseReservation) Type() string { return "market/close_reservation" }

// Type is the wire name of MsgClaim.
func (*MsgClaim) Type() string { return "market/claim" }

// Type is the wire name of MsgReportUsage.
func (*MsgReportUsage) Type() string { return "market/report_usage" }
