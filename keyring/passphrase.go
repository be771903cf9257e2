package keyring

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"golang.org/x/term"
)

// PassphraseEnv is the environment variable ReadPassphrase consults first.
const PassphraseEnv = "FLASHBACK_KEYRING_PASSPHRASE"

var (
	stdinMu     sync.Mutex
	stdinFile   *os.File
	stdinReader *bufio.Reader
)

// ReadPassphrase obtains a passphrase for the CLI. If the environment
// variable FLASHBACK_KEYRING_PASSPHRASE is set, its value is returned (it may
// be empty, meaning no encryption). Otherwise, if stdin is a terminal, prompt
// is written to stderr and the passphrase is read without echo; with confirm
// it is asked for twice and must match. Otherwise one line is read from stdin
// (confirm is ignored); successive calls read successive lines.
func ReadPassphrase(prompt string, confirm bool) ([]byte, error) {
	if v, ok := os.LookupEnv(PassphraseEnv); ok {
		return []byte(v), nil
	}
	stdinMu.Lock()
	defer stdinMu.Unlock()
	in := os.Stdin
	if fd := int(in.Fd()); term.IsTerminal(fd) {
		return readTerminal(fd, prompt, confirm)
	}
	if stdinFile != in || stdinReader == nil {
		stdinFile, stdinReader = in, newStdinReader(in)
	}
	return readLine(stdinReader)
}

func readTerminal(fd int, prompt string, confirm bool) ([]byte, error) {
	fmt.Fprint(os.Stderr, prompt)
	pass, err := term.ReadPassword(fd)
	fmt.Fprintln(os.Stderr)
	if err != nil {
		return nil, fmt.Errorf("keyring: read passphrase: %w", err)
	}
	if !confirm {
		return pass, nil
	}
	fmt.Fprint(os.Stderr, "Repeat passphrase: ")
	again, err := term.ReadPassword(fd)
	fmt.Fprintln(os.Stderr)
	defer wipe(again)
	if err != nil {
		wipe(pass)
		return nil, fmt.Errorf("keyring: read passphrase: %w", err)
	}
	if !bytes.Equal(pass, again) {
		wipe(pass)
		return nil, errors.New("keyring: passphrases do not match")
	}
	return pass, nil
}

// readLine reads one line, without its line ending. A final line without a
// newline is accepted; end of input with nothing read is an error.
func readLine(r *bufio.Reader) ([]byte, error) {
	line, err := r.ReadBytes('\n')
	if err != nil && !(errors.Is(err, io.EOF) && len(line) > 0) {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("keyring: read passphrase: no input on stdin")
		}
		return nil, fmt.Errorf("keyring: read passphrase: %w", err)
	}
	line = bytes.TrimSuffix(line, []byte("\n"))
	line = bytes.TrimSuffix(line, []byte("\r"))
	return line, nil
}

func newStdinReader(in *os.File) *bufio.Reader { return bufio.NewReader(in) }
