// Package verifypublic checks a draw's public certificate as anyone can:
// from the certificate and its leaves alone (fetched or read from files),
// with no access to the service's store. It is `participation draw
// verify-public`.
//
// What it proves: the leaves (as given: leaf hash and weight) build the
// committed root and count; for drand, the round is signed by the chain
// whose info hashes to the committed chain hash, was due after the commit,
// and derives the seed with the root and the draw id; and the seed and the
// weights give exactly the listed winners and alternates, replacements
// taking alternates in order. What it cannot prove alone: that a weight is
// the one inside its leaf's hash (the leaf bytes hold the entry number,
// which is not public) — each entrant checks their own leaf, whose bytes
// they know — and, for local randomness, that the operator did not pick
// the seed.
package verifypublic

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/shopevents/participation/beacon"
	"github.com/shopevents/participation/domain"
)

// ErrMismatch is a certificate that does not check: the message names the
// first mismatch.
var ErrMismatch = domain.ErrCertificateMismatch

// LeavesPath is where a certificate file's leaves are by default: FILE with
// its ".json" replaced by ".leaves.jsonl" (certificate.json →
// certificate.leaves.jsonl), as saved from URL and URL+"/leaves".
func LeavesPath(file string) string {
	return strings.TrimSuffix(file, ".json") + ".leaves.jsonl"
}

// Source opens the certificate and its leaves.
type Source struct {
	open func(ctx context.Context, what string) (io.ReadCloser, error)
	cert string
	leaf string
}

// URLSource reads the certificate at url and its leaves at url+"/leaves".
func URLSource(client *http.Client, url string) Source {
	url = strings.TrimRight(url, "/")
	return Source{cert: url, leaf: url + "/leaves", open: func(ctx context.Context, u string) (io.ReadCloser, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return nil, err
		}
		resp, err := client.Do(req)
		if err != nil {
			return nil, err
		}
		if resp.StatusCode != http.StatusOK {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
			_ = resp.Body.Close()
			return nil, fmt.Errorf("GET %s: %d %s", u, resp.StatusCode, bytes.TrimSpace(body))
		}
		return resp.Body, nil
	}}
}

// FileSource reads the certificate from file and its leaves from leaves
// ("" is LeavesPath(file)).
func FileSource(file, leaves string) Source {
	if leaves == "" {
		leaves = LeavesPath(file)
	}
	return Source{cert: file, leaf: leaves, open: func(_ context.Context, p string) (io.ReadCloser, error) { return os.Open(p) }}
}

// Verify checks the certificate against its leaves. nil is "ok"; an
// ErrMismatch names the first mismatch; other errors are failures to read.
func Verify(ctx context.Context, src Source) error {
	cert, err := readCertificate(ctx, src)
	if err != nil {
		return err
	}
	randomness, err := checkBeacon(cert)
	if err != nil {
		return err
	}
	checker, err := domain.NewCertificateChecker(cert)
	if err != nil {
		return err
	}
	leaves, err := src.open(ctx, src.leaf)
	if err != nil {
		return fmt.Errorf("leaves: %w", err)
	}
	defer leaves.Close()
	lines := bufio.NewScanner(leaves)
	lines.Buffer(make([]byte, 0, 4096), 1<<16)
	n := 0
	for lines.Scan() {
		n++
		var l domain.DrawLeafLine
		dec := json.NewDecoder(bytes.NewReader(lines.Bytes()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&l); err != nil {
			return fmt.Errorf("%w: leaves line %d: %w", ErrMismatch, n, err)
		}
		if err := checker.Add(l); err != nil {
			return err
		}
	}
	if err := lines.Err(); err != nil {
		return fmt.Errorf("leaves: %w", err)
	}
	return checker.Finish(randomness)
}

func readCertificate(ctx context.Context, src Source) (domain.DrawCertificate, error) {
	r, err := src.open(ctx, src.cert)
	if err != nil {
		return domain.DrawCertificate{}, fmt.Errorf("certificate: %w", err)
	}
	defer r.Close()
	var cert domain.DrawCertificate
	if err := json.NewDecoder(io.LimitReader(r, 64<<20)).Decode(&cert); err != nil {
		return domain.DrawCertificate{}, fmt.Errorf("certificate: %w", err)
	}
	return cert, nil
}

// checkBeacon verifies a drand draw's round offline and returns its
// randomness (nil for local randomness).
func checkBeacon(cert domain.DrawCertificate) ([]byte, error) {
	if cert.Randomness.Source != domain.RandomnessDrand {
		return nil, nil
	}
	if cert.DrawCertificateResult == nil || cert.Beacon == nil {
		return nil, fmt.Errorf("%w: a drand draw without its beacon", ErrMismatch)
	}
	b := cert.Beacon
	if len(b.ChainInfo) == 0 {
		return nil, fmt.Errorf("%w: the beacon has no chain info to check its signature with", ErrMismatch)
	}
	info, err := beacon.ParseChainInfo(b.ChainInfo)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMismatch, err)
	}
	if info.HashHex() != cert.Randomness.ChainHash {
		return nil, fmt.Errorf("%w: the chain info is chain %s, the commit names %s", ErrMismatch, info.HashHex(), cert.Randomness.ChainHash)
	}
	if b.Round != cert.Randomness.Round {
		return nil, fmt.Errorf("%w: beacon round %d, the commit names round %d", ErrMismatch, b.Round, cert.Randomness.Round)
	}
	// the named round must not have been out when the candidates were fixed
	if due := info.TimeOf(b.Round); !due.After(cert.CommittedAt) {
		return nil, fmt.Errorf("%w: round %d was due at %s, not after the commit at %s", ErrMismatch, b.Round, due.UTC().Format("2006-01-02T15:04:05Z"), cert.CommittedAt.UTC().Format("2006-01-02T15:04:05Z"))
	}
	sig, err1 := hex.DecodeString(b.Signature)
	prev, err2 := hex.DecodeString(b.PreviousSignature)
	if err := errors.Join(err1, err2); err != nil {
		return nil, fmt.Errorf("%w: beacon: %w", ErrMismatch, err)
	}
	round, err := info.Verify(beacon.Round{Number: b.Round, Signature: sig, PreviousSignature: prev})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMismatch, err)
	}
	if hex.EncodeToString(round.Randomness) != b.Randomness {
		return nil, fmt.Errorf("%w: the beacon's randomness is not SHA-256 of its signature", ErrMismatch)
	}
	return round.Randomness, nil
}
