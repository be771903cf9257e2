package bank

// Type is the wire name of MsgSend.
func (*MsgSend) Type() string { return "bank/send" }
