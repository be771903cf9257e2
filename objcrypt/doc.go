// Package objcrypt encrypts objects end to end for the gateway: AES-256-GCM
// in fixed-size chunks, so that range reads and reads resumed from another
// copy work without decrypting (or even fetching) the whole object.
//
// # Keys
//
// The repository master key is HKDF-SHA256 of the owner's secret (bytes
// only the consumer holds, e.g. its private key seed) with the owner's
// address and the repository name as context (DeriveMasterKey). Every
// object gets a fresh random 32-byte salt, stored in its header; the
// object key is HKDF(master key, salt, header fields). Two objects, even
// with the same name and content, thus never share a key, and since a key
// encrypts one object only, the nonce of chunk i can simply be i.
//
// # Stored format
//
//	header (HeaderSize = 42 bytes):
//	  magic "FBEC" | version 1 | flags 0 | chunk size (uint32 BE) | salt (32 bytes)
//	then chunk 0, chunk 1, ... chunk n-1, each:
//	  AES-256-GCM(object key, nonce = 0^4 | i (uint64 BE), plaintext[i*C : (i+1)*C],
//	              AAD = "FBEC" | version | i (uint64 BE) | final (0|1) | object name)
//	  = up to C bytes of ciphertext followed by its 16-byte tag.
//
// Every chunk but the last holds exactly C plaintext bytes; the last holds
// 1..C, or 0 for an empty object (which is therefore one empty sealed chunk,
// so that a header alone never passes for an empty object). The final flag
// in the AAD makes truncation at a chunk boundary fail, the index makes
// reordering fail, the object name makes swapping objects fail, and the
// header's fields are inputs of the object key, so a changed chunk size or
// salt makes every chunk fail.
//
// # Chunk size
//
// DefaultChunkSize is 64 KiB: the tag costs 16/65536 = 0.02 % of storage,
// the per-chunk cost (AEAD setup, one read call) is amortized well enough
// for GB/s with AES-NI, a range read fetches at most 2 x 64 KiB more than
// asked, and a resumed read repeats at most one chunk. Memory per stream is
// about two chunks.
package objcrypt
