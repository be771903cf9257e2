package accesskey

// Type is the wire name of MsgCreateAccessKey.
func (*MsgCreateAccessKey) Type() string { return "accesskey/create" }

// Type is the wire name of MsgRevokeAccessKey.
func (*MsgRevokeAccessKey) Type() string { return "accesskey/revoke" }
