package qos

// Type is the wire name of MsgRegisterOracle.
func (*MsgRegisterOracle) Type() string { return "qos/register_oracle" }

// Type is the wire name of MsgDeregisterOracle.
func (*MsgDeregisterOracle) Type() string { return "qos/deregister_oracle" }

// Type is the wire name of MsgReport.
func (*MsgReport) Type() string { return "qos/report" }

// Type is the wire name of MsgClaimCompensation.
func (*MsgClaimCompensation) Type() string { return "qos/claim_compensation" }
