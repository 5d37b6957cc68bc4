package api_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"testing"
	"time"

	"golang.org/x/text/unicode/norm"

	"github.com/shopevents/participation/api"
	"github.com/shopevents/participation/api/apitest"
	"github.com/shopevents/participation/commands"
	"github.com/shopevents/participation/domain"
)

// The fuzz targets feed the request binders. Two properties:
//   - robustness (the *Body targets, raw bytes): never a 5xx, every answer is
//     one the spec documents with the error shape, and a rejected request
//     reaches no command;
//   - exactness (the *Fields targets): the spec accepts a request exactly when
//     the server does — openapi.yaml states every rule the server enforces.
// The commands are fakes that run the domain's own validation, so the verdict
// is the real server's. Seeds: f.Add below and testdata/fuzz/<target>/;
// `go test` runs them all, `go test -fuzz FuzzX ./api/` explores.

// specVerdict says whether the spec accepts the request (nil) or why not.
func specVerdict(t *testing.T, h *httpHarness, method, target string, body []byte) error {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req := httptest.NewRequest(method, target, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return apitest.ValidateRequest(h.spec, req)
}

// agree fails unless the server's answer and the spec's verdict agree: a 400
// exactly when the spec rejects.
func agree(t *testing.T, resp *http.Response, specErr error, what string) {
	t.Helper()
	b, _ := io.ReadAll(resp.Body)
	switch {
	case resp.StatusCode >= 500:
		t.Fatalf("%s: %d %s", what, resp.StatusCode, b)
	case specErr == nil && resp.StatusCode == http.StatusBadRequest:
		t.Fatalf("%s: the spec accepts it, the server answers 400 %s", what, b)
	case specErr != nil && resp.StatusCode < 400:
		t.Fatalf("%s: the server answers %d, the spec rejects it: %v", what, resp.StatusCode, specErr)
	}
}

// validatingCommands makes the fakes judge input as the real handlers do.
func validatingCommands(h *httpHarness) {
	h.cmds.registerFn = func(cmd commands.RegisterParticipant) (commands.Registration, error) {
		if _, err := domain.NewRegistration(domain.RegistrationInput{Name: cmd.Name, Phone: cmd.Phone,
			EntryPath: cmd.EntryPath, PrivacyConsent: cmd.PrivacyConsent}); err != nil {
			return commands.Registration{}, err
		}
		return commands.Registration{EntryNumber: "ABCD-2345", AnnounceAt: fixedNow}, nil
	}
	h.cmds.openFn = func(cmd commands.OpenCampaign) (domain.CampaignOpened, error) {
		return domain.OpenCampaignWithClaimDeadline(campaignA, cmd.OwnerID, cmd.Title, cmd.StartsAt, cmd.EndsAt, cmd.AnnounceAt, cmd.ClaimDeadline)
	}
	h.cmds.drawFn = func(cmd commands.DrawWinners) (commands.DrawOutcome, error) {
		if cmd.WinnerCount < 1 {
			return commands.DrawOutcome{}, domain.ErrInvalidWinnerCount
		}
		if _, err := (domain.DrawOptions{WinnerCount: cmd.WinnerCount, AlternateCount: cmd.AlternateCount, VisitBonus: cmd.VisitBonus,
			VisitBonusWeight: cmd.VisitBonusWeight}).Normalize(); err != nil {
			return commands.DrawOutcome{}, err
		}
		return commands.DrawOutcome{}, nil
	}
	// As commands.EraseMyData judges: the campaign, then the phone, and an
	// entry number that is none matches nobody.
	h.cmds.eraseFn = func(cmd commands.EraseMyData) error {
		if cmd.EventID != campaignA {
			return domain.ErrCampaignNotFound
		}
		if _, err := domain.NormalizePhone(cmd.Phone); err != nil {
			return &domain.ValidationError{Fields: []domain.FieldError{{Field: "phone", Reason: err.Error()}}}
		}
		if _, ok := domain.ParseEntryNumber(cmd.EntryNumber); !ok {
			return domain.ErrParticipantNotFound
		}
		return nil
	}
}

func robust(t *testing.T, h *httpHarness, resp *http.Response) {
	t.Helper()
	if resp.StatusCode >= 500 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	if resp.StatusCode >= 400 && len(h.cmds.commandsReceived()) > 0 && resp.StatusCode != http.StatusConflict {
		t.Fatalf("a %d request reached a command: %v", resp.StatusCode, h.cmds.commandsReceived())
	}
}

func FuzzRegistrationBody(f *testing.F) {
	f.Add([]byte(`{"eventId":"11111111-1111-4111-8111-111111111111","name":"김민수","phone":"010-1234-5678","entryPath":"instagram","privacyConsent":true}`))
	f.Add([]byte(`{"privacyConsent":false,"PRIVACYCONSENT":true}`))
	f.Add([]byte(`{"eventId":1}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		h := newHTTPHarness(t)
		robust(t, h, h.do(http.MethodPost, "/api/v1/participations", bytes.NewReader(body)))
	})
}

func FuzzRegistrationFields(f *testing.F) {
	f.Add("11111111-1111-4111-8111-111111111111", "김민수", "010-1234-5678", "INSTAGRAM", true)
	f.Add("11111111-1111-4111-8111-111111111111", "  Jean  Luc ", " 01012345678", "  kakao ", true)
	f.Add("00000000-0000-0000-0000-000000000000", "김", "010 1234-5678", "ınstagram", false)
	f.Add("11111111-1111-4111-8111-111111111111", "e\u0301e", "010 1234 5678", "store_qr", true)
	f.Add("11111111-1111-4111-8111-111111111111", "\u3164\u3164", "02-1234-5678", "OTHER", true)
	f.Fuzz(func(t *testing.T, eventID, name, phone, entryPath string, consent bool) {
		h := newHTTPHarness(t)
		validatingCommands(h)
		body, _ := json.Marshal(map[string]any{"eventId": eventID, "name": name, "phone": phone,
			"entryPath": entryPath, "privacyConsent": consent})
		// The name's rule applies to its NFC form (the spec says so); a
		// schema validator cannot normalize, so the spec is asked about that.
		nfc, _ := json.Marshal(map[string]any{"eventId": eventID, "name": norm.NFC.String(name), "phone": phone,
			"entryPath": entryPath, "privacyConsent": consent})
		specErr := specVerdict(t, h, http.MethodPost, "/api/v1/participations", nfc)
		resp := h.do(http.MethodPost, "/api/v1/participations", bytes.NewReader(body))
		agree(t, resp, specErr, string(body))
	})
}

func FuzzOpenCampaignFields(f *testing.F) {
	f.Add("", "봄맞이 이벤트", "2025-05-01T10:00:00+09:00", "2025-05-02T10:00:00+09:00", "2025-05-03T10:00:00+09:00")
	f.Add("11111111-1111-4111-8111-111111111111", " \t", "2025-05-01t10:00:00z", "2025-05-01T10:00:00,5Z", "2025-02-30T00:00:00Z")
	f.Add("", "x\u0085", "2025-05-01T23:59:60Z", "2025-05-01T10:00:00+24:00", "0000-01-01T00:00:00Z")
	f.Fuzz(func(t *testing.T, eventID, title, startsAt, endsAt, announceAt string) {
		h := newHTTPHarness(t)
		validatingCommands(h)
		fields := map[string]any{"title": title, "startsAt": startsAt, "endsAt": endsAt, "announceAt": announceAt}
		if eventID != "" {
			fields["eventId"] = eventID
		}
		body, _ := json.Marshal(fields)
		specErr := specVerdict(t, h, http.MethodPost, "/api/v1/events", body)
		resp := h.asOwner(ownerA, http.MethodPost, "/api/v1/events", bytes.NewReader(body))
		// startsAt < endsAt ≤ announceAt is between fields, beyond a schema.
		s, err1 := time.Parse(time.RFC3339, startsAt)
		e, err2 := time.Parse(time.RFC3339, endsAt)
		a, err3 := time.Parse(time.RFC3339, announceAt)
		ordered := err1 == nil && err2 == nil && err3 == nil && s.Before(e) && !a.Before(e)
		if specErr == nil && !ordered {
			if resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("%s: unordered dates answered %d", body, resp.StatusCode)
			}
			return
		}
		agree(t, resp, specErr, string(body))
	})
}

// FuzzOpenCampaignClaimDeadline: a campaign's optional claimDeadline is 400
// exactly when the spec rejects it or it falls before announceAt.
func FuzzOpenCampaignClaimDeadline(f *testing.F) {
	f.Add("2025-05-10T10:00:00+09:00")
	f.Add("2025-05-03T10:00:00+09:00")
	f.Add("2025-05-03T00:59:59Z")
	f.Add("0001-01-01T00:00:00Z")
	f.Add("2025-05-10 10:00")
	f.Fuzz(func(t *testing.T, claimDeadline string) {
		h := newHTTPHarness(t)
		validatingCommands(h)
		body, _ := json.Marshal(map[string]any{"title": "봄맞이 이벤트", "startsAt": "2025-05-01T10:00:00+09:00",
			"endsAt": "2025-05-02T10:00:00+09:00", "announceAt": "2025-05-03T10:00:00+09:00", "claimDeadline": claimDeadline})
		specErr := specVerdict(t, h, http.MethodPost, "/api/v1/events", body)
		resp := h.asOwner(ownerA, http.MethodPost, "/api/v1/events", bytes.NewReader(body))
		// Not before announceAt is between fields, beyond a schema.
		d, err := time.Parse(time.RFC3339, claimDeadline)
		if specErr == nil && err == nil && d.Before(time.Date(2025, 5, 3, 1, 0, 0, 0, time.UTC)) {
			if resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("%s: a deadline before announceAt answered %d", body, resp.StatusCode)
			}
			return
		}
		agree(t, resp, specErr, string(body))
	})
}

func FuzzDrawFields(f *testing.F) {
	f.Add(int64(1), false, int64(0), false)
	f.Add(int64(0), true, int64(0), true)
	f.Add(int64(10_000_001), true, int64(11), true)
	f.Add(int64(-5), true, int64(2), true)
	f.Fuzz(func(t *testing.T, winnerCount int64, visitBonus bool, weight int64, withWeight bool) {
		h := newHTTPHarness(t)
		validatingCommands(h)
		fields := map[string]any{"winnerCount": winnerCount, "visitBonus": visitBonus}
		if withWeight {
			fields["visitBonusWeight"] = weight
		}
		body, _ := json.Marshal(fields)
		path := "/api/v1/events/" + campaignA.String() + "/draw-winners"
		specErr := specVerdict(t, h, http.MethodPost, path, body)
		resp := h.asOwner(ownerA, http.MethodPost, path, bytes.NewReader(body))
		agree(t, resp, specErr, string(body))
	})
}

func FuzzParticipantQuery(f *testing.F) {
	f.Add("1", "20", "", "")
	f.Add("0", "101", "  instagram ", "TRUE")
	f.Add("+3", "007", "sns_other", "false")
	f.Add("1000001", "100", " ", "true")
	f.Fuzz(func(t *testing.T, page, size, entryPath, winner string) {
		h := newHTTPHarness(t)
		q := url.Values{"page": {page}, "size": {size}, "entryPath": {entryPath}, "winner": {winner}}
		target := "/api/v1/events/" + campaignA.String() + "/participants?" + q.Encode()
		specErr := specVerdict(t, h, http.MethodGet, target, nil)
		resp := h.asOwner(ownerA, http.MethodGet, target, nil)
		agree(t, resp, specErr, target)
	})
}

func FuzzEntryNumberParam(f *testing.F) {
	for _, s := range []string{"ABCD-2345", "abcd2345", " ABCD-2345 ", "ABCD-234", "ABCD_2345", "AIOL-2345", "ＡＢＣＤ-2345"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, entryNumber string) {
		h := newHTTPHarness(t)
		target := "/api/v1/events/" + campaignA.String() + "/participants/" + url.PathEscape(entryNumber) + "/visit"
		specErr := specVerdict(t, h, http.MethodPost, target, nil)
		if specErr != nil && !validPathSegment(entryNumber) {
			return // no route: gin's 404, not the binder's
		}
		resp := h.asOwner(ownerA, http.MethodPost, target, nil)
		agree(t, resp, specErr, strconv.Quote(entryNumber))
	})
}

// validPathSegment is a non-empty segment gin routes to :entryNumber.
func validPathSegment(s string) bool {
	return s != "" && s != "." && s != ".." && !bytes.ContainsAny([]byte(s), "/")
}

// FuzzEraseBody feeds the customer's erasure raw bytes: never a 5xx, an
// answer the spec documents, and the spec and the server agree — a body the
// spec rejects is never erased (204), and one it accepts is not a 400
// (aside from what a schema validator cannot see and the server rejects: a
// key repeated, data after the object).
func FuzzEraseBody(f *testing.F) {
	f.Add([]byte(`{"eventId":"11111111-1111-4111-8111-111111111111","phone":"010-1234-5678","entryNumber":"ABCD-2345"}`))
	f.Add([]byte(`{"eventId":"11111111-1111-4111-8111-111111111111","phone":" 01012345678\u3000","entryNumber":"abcd2345"}`))
	f.Add([]byte(`{"eventId":"11111111-1111-4111-8111-111111111111","phone":"010-1234-5678","entryNumber":""}`))
	f.Add([]byte(`{"eventId":"11111111-1111-4111-8111-111111111111","Phone":"010-1234-5678","entryNumber":"ABCD-2345"}`))
	f.Add([]byte(`{"eventId":"11111111-1111-4111-8111-111111111111","phone":"010-1234-5678","phone":"x","entryNumber":"ABCD-2345"}`))
	f.Add([]byte(`{"eventId":"nope","phone":null}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		h := newHTTPHarness(t)
		validatingCommands(h)
		const path = "/api/v1/participations/erase"
		specErr := specVerdict(t, h, http.MethodPost, path, body)
		resp := h.do(http.MethodPost, path, bytes.NewReader(body))
		b, _ := io.ReadAll(resp.Body)
		switch {
		case resp.StatusCode >= 500:
			t.Fatalf("%s: %d %s", body, resp.StatusCode, b)
		case specErr != nil && resp.StatusCode < 400:
			t.Fatalf("%s: the server answers %d, the spec rejects it: %v", body, resp.StatusCode, specErr)
		case specErr == nil && resp.StatusCode == http.StatusBadRequest && json.Valid(body) && !repeatsAKey(body):
			t.Fatalf("%s: the spec accepts it, the server answers 400 %s", body, b)
		}
	})
}

// repeatsAKey reports whether some JSON object in b names a key twice.
func repeatsAKey(b []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(b))
	type object struct {
		keys    map[string]bool
		wantKey bool
	}
	var stack []*object
	for {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		var top *object
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{':
				stack = append(stack, &object{keys: map[string]bool{}, wantKey: true})
				continue
			case '}', ']':
				stack = stack[:len(stack)-1]
			case '[':
				stack = append(stack, nil)
				continue
			}
		case string:
			if top != nil && top.wantKey {
				if top.keys[v] {
					return true
				}
				top.keys[v] = true
				top.wantKey = false
				continue
			}
		}
		// a value ended: the enclosing object expects a key again
		if len(stack) > 0 && stack[len(stack)-1] != nil {
			stack[len(stack)-1].wantKey = true
		}
	}
}

// FuzzListCampaignsQuery checks the owner's campaign list's paging: the
// spec accepts a query exactly when the server does.
func FuzzListCampaignsQuery(f *testing.F) {
	f.Add("1", "20", true, true)
	f.Add("0", "101", true, true)
	f.Add("+3", "007", true, false)
	f.Add("1000001", " 1", false, true)
	f.Add("1e3", "-0", true, true)
	f.Fuzz(func(t *testing.T, page, size string, withPage, withSize bool) {
		h := newHTTPHarness(t, withConfig(func(c *api.Config) { c.Campaigns = &fakeCampaigns{} }))
		q := url.Values{}
		if withPage {
			q.Set("page", page)
		}
		if withSize {
			q.Set("size", size)
		}
		target := "/api/v1/events?" + q.Encode()
		specErr := specVerdict(t, h, http.MethodGet, target, nil)
		resp := h.asOwner(ownerA, http.MethodGet, target, nil)
		agree(t, resp, specErr, target)
	})
}
