// Package repair keeps the members (copies) of a mirror repository level:
// it copies objects missing or bad on a member from a good copy, verifies
// what it wrote, propagates deletes, and says how far behind each member
// is. The gateway runs it continuously (Run); `flashback repo repair NAME`
// runs one pass (Once); `repo replace` fills the joining member (Fill)
// before retiring the old one.
//
// It is written against the Copy interface it declares, so the gateway
// plugs in its member clients (a bridge per member) without this package
// knowing about S3.
//
// # What is the right version of an object
//
// For each key, the versions (size, sha256 as recorded by the member, or as
// computed when scrubbing) held by the members that listed successfully are
// counted. A version is authoritative when it is held by at least Quorum
// members (default: a majority of all members, the gateway's write quorum)
// and by more members than any other version. Members lacking it, or
// holding another version, are repaired from the members that hold it. A
// key without an authoritative version (e.g. a PUT interrupted before its
// quorum, a tie) is left alone and counted as unresolved: repair never
// invents a winner. A copy a scrub found rotten still votes for the
// version its member recorded (that version was written there) but is
// never a source.
//
// # Deletes
//
// A scan never deletes. A delete is known only from a Hint with reason
// Delete, which the gateway queues for the members that missed a DELETE;
// it is applied only when the key is held by fewer than Quorum members
// (the delete reached a quorum). If a quorum still holds the key, the hint
// is stale (the delete failed, or a later PUT recreated the key) and is
// dropped: data present on a majority is never deleted.
//
// # Bytes are verified twice
//
// A copy streams the source through a sha256 and fails the Put (by failing
// the reader before its last byte is handed over) if the bytes do not
// match the authoritative checksum; a source that dies mid-stream is
// replaced by the next good copy at the same offset. After the Put, the
// target's Head must report the same size and sha256; only then is the
// object counted as repaired. With Config.Scrub, scans read every copy and
// hash it, so a byte flipped on a member's disk (whose recorded checksum
// still looks right) is found.
//
// # Failing members
//
// A member whose calls fail is backed off exponentially (BackoffBase ..
// BackoffMax). A member whose Put fails for lack of room (IsNoRoom) is
// paused: nothing is written to it until NoRoomRetry has passed or Resume
// is called, and its status says why. Other members go on.
//
// # Deletes racing a scan
//
// A scan that started before a DELETE may copy the key to a member just
// as the DELETE removes it elsewhere, leaving a below-quorum copy. The
// gateway should queue a Delete hint (Member "") for every DELETE: hints
// that arrive during a pass are run again after the pass's copies have
// finished, and remove such a copy.
//
// # Erasure coding
//
// An erasure-coded mode (k data + m parity shards on k+m members) fits the
// same loop: a member's Copy would list its shard of each object, the
// version of a key would be its shard checksums (recorded with every
// shard), the authoritative rule "at least k consistent shards" instead of
// a quorum of whole copies, and a job would rebuild the missing shard from
// k others (reedsolomon) instead of streaming one source.
package repair
