package app

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/shopevents/participation/domain"
	"github.com/shopevents/participation/internal/verifypublic"
)

func certificatePath(eventID uuid.UUID) string {
	return "/api/v1/events/" + eventID.String() + "/draw-certificate"
}

// The public certificate over the real service: NOT_DRAWN before the
// commit; after it the commitment alone until announceAt (leaves 409);
// then the seed and the picks by leaf index, the leaves as JSON lines
// whose leaf at each winner's index is that winner's leaf, unchanged by an
// erasure after the draw; no entry number, participant id, name or phone
// anywhere; and verify-public says ok over the URL.
func TestDrawCertificateAndLeaves(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	now := time.Now().Truncate(time.Second)
	announceAt := now.Add(8 * time.Second)
	eventID := a.openCampaign(ownerA, window{now.Add(-time.Hour), announceAt, announceAt})

	if ans := a.call(http.MethodGet, certificatePath(eventID), "", nil); ans.Status != http.StatusNotFound || errorOf(ans).Code != "NOT_DRAWN" {
		t.Fatalf("certificate before the draw → %d %s, want 404 NOT_DRAWN", ans.Status, ans.Body)
	}
	regs := make([]registrationJSON, 6)
	for i := range regs {
		regs[i] = a.register(eventID, "참가자 "+string(rune('가'+i)), phoneNumber(7000+i))
	}
	a.visit(eventID, regs[2].EntryNumber, "")
	drawAns := a.call(http.MethodPost, drawPath(eventID), token(t, ownerA), map[string]any{"winnerCount": 2, "alternateCount": 1, "visitBonus": true})
	if drawAns.Status != http.StatusOK {
		t.Fatalf("draw → %d: %s", drawAns.Status, drawAns.Body)
	}
	var drawn struct {
		DrawLogID  uuid.UUID        `json:"drawLogId"`
		Winners    []drawnEntryJSON `json:"winners"`
		Alternates []drawnEntryJSON `json:"alternates"`
	}
	if err := json.Unmarshal(drawAns.Body, &drawn); err != nil {
		t.Fatal(err)
	}

	before := a.call(http.MethodGet, certificatePath(eventID), "", nil)
	cert := decode[domain.DrawCertificate](t, before)
	if cert.State != domain.DrawStateDrawn || cert.CandidateCount != 6 || cert.DrawID != drawn.DrawLogID || len(cert.CandidatesRoot) != 64 || cert.DrawCertificateResult != nil {
		t.Fatalf("certificate before announceAt: %s", before.Body)
	}
	if ans := a.call(http.MethodGet, certificatePath(eventID)+"/leaves", "", nil); ans.Status != http.StatusConflict || errorOf(ans).Code != "NOT_ANNOUNCED" {
		t.Fatalf("leaves before announceAt → %d %s, want 409 NOT_ANNOUNCED", ans.Status, ans.Body)
	}
	// a participant erased after the draw stays a leaf
	picked := map[string]bool{}
	for _, w := range slices.Concat(drawn.Winners, drawn.Alternates) {
		picked[w.EntryNumber] = true
	}
	for i, r := range regs {
		if !picked[r.EntryNumber] {
			ans := a.call(http.MethodPost, "/api/v1/participations/erase", "", map[string]any{
				"eventId": eventID.String(), "phone": phoneNumber(7000 + i), "entryNumber": r.EntryNumber})
			if ans.Status != http.StatusNoContent {
				t.Fatalf("erase → %d: %s", ans.Status, ans.Body)
			}
			break
		}
	}

	waitUntil(t, "announceAt", func() error {
		if time.Now().Before(announceAt) {
			return fmt.Errorf("not yet")
		}
		return nil
	})
	after := a.call(http.MethodGet, certificatePath(eventID), "", nil)
	cert = decode[domain.DrawCertificate](t, after)
	if cert.DrawCertificateResult == nil || len(cert.Seed) != 64 || cert.Beacon != nil || len(cert.Winners) != 2 || len(cert.Alternates) != 1 || cert.Replacements == nil {
		t.Fatalf("certificate after announceAt: %s", after.Body)
	}
	leavesAns := a.call(http.MethodGet, certificatePath(eventID)+"/leaves", "", nil)
	if leavesAns.Status != http.StatusOK || leavesAns.Header.Get("Content-Type") != "application/x-ndjson" {
		t.Fatalf("leaves → %d %q: %s", leavesAns.Status, leavesAns.Header.Get("Content-Type"), leavesAns.Body)
	}
	var lines []domain.DrawLeafLine
	sc := bufio.NewScanner(bytes.NewReader(leavesAns.Body))
	for sc.Scan() {
		var l domain.DrawLeafLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("leaf line %q: %v", sc.Text(), err)
		}
		lines = append(lines, l)
	}
	if len(lines) != 6 {
		t.Fatalf("%d leaf lines, want 6 (the erased one included):\n%s", len(lines), leavesAns.Body)
	}
	leafOf := func(entry string) domain.DrawLeafLine {
		weight := uint32(1)
		if entry == regs[2].EntryNumber {
			weight = 2
		}
		return domain.DrawLeafLineOf(0, domain.AppendDrawLeaf(nil, cert.DrawID, []byte(entry), weight), weight)
	}
	for _, pick := range []struct {
		listed []domain.DrawPick
		drawn  []drawnEntryJSON
	}{{cert.Winners, drawn.Winners}, {cert.Alternates, drawn.Alternates}} {
		for i, p := range pick.listed {
			want := leafOf(pick.drawn[i].EntryNumber)
			if got := lines[p.LeafIndex]; got.LeafHash != want.LeafHash || got.Weight != want.Weight {
				t.Errorf("rank %d at leaf %d: %+v, want the drawn entry's leaf %+v", p.Rank, p.LeafIndex, got, want)
			}
		}
	}
	for _, r := range regs {
		for _, body := range [][]byte{after.Body, leavesAns.Body} {
			if bytes.Contains(body, []byte(r.EntryNumber)) || bytes.Contains(body, []byte(r.ParticipantID.String())) || strings.Contains(string(body), "참가자") {
				t.Errorf("a public answer names %s: %s", r.EntryNumber, body)
			}
		}
	}
	if err := verifypublic.Verify(t.Context(), verifypublic.URLSource(a.client, a.url+certificatePath(eventID))); err != nil {
		t.Errorf("verify-public over the service: %v", err)
	}
}
