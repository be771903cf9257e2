package repo

// Type is the wire name of MsgCreate.
func (*MsgCreate) Type() string { return "repo/create" }

// Type is the wire name of MsgAddMember.
func (*MsgAddMember) Type() string { return "repo/add_member" }

// Type is the wire name of MsgRemoveMember.
func (*MsgRemoveMember) Type() string { return "repo/remove_member" }

// Type is the wire name of MsgReplaceMember.
func (*MsgReplaceMember) Type() string { return "repo/replace_member" }

// Type is the wire name of MsgMemberSynced.
func (*MsgMemberSynced) Type() string { return "repo/member_synced" }

// Type is the wire name of MsgSetQuorum.
func (*MsgSetQuorum) Type() string { return "repo/set_quorum" }

// Type is the wire name of MsgDelete.
func (*MsgDelete) Type() string { return "repo/delete" }

// Type is the wire name of MsgCreateKey.
func (*MsgCreateKey) Type() string { return "repo/create_key" }

// Type is the wire name of MsgRevokeKey.
func (*MsgRevokeKey) Type() string { return "repo/revoke_key" }
