package app

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/shopevents/participation/api/apitest"
)

// --- customers ---

// customer is a registration as sent.
type customer struct{ name, phone, entryPath string }

var customerNames = []string{"김철수", "이영희", "박민", "  최지우  ", "남궁 민수", "Alice Kim", "정다운", "황보 세영", "강하늘", "조은비 ", "Lee Min"}

// aCustomer is the i-th customer (i < 1000): names of two to five
// characters, Latin, padded, with inner spaces; every phone spelling; every
// channel in any case. Both halves of the phone hold a 0 or a 1, which no
// entry number has, so a raw phone cannot be mistaken for one.
func aCustomer(i int) customer {
	digits := fmt.Sprintf("010%04d%04d", 1000+i, 5000+i)
	phone := []string{
		digits[:3] + "-" + digits[3:7] + "-" + digits[7:],
		digits,
		digits[:3] + " " + digits[3:7] + " " + digits[7:],
	}[i%3]
	path := entryPaths[i%len(entryPaths)]
	switch (i / len(entryPaths)) % 3 {
	case 1:
		path = strings.ToLower(path)
	case 2:
		path = path[:1] + strings.ToLower(path[1:])
	}
	return customer{name: customerNames[i%len(customerNames)], phone: phone, entryPath: path}
}

func (c customer) body(eventID uuid.UUID) map[string]any {
	return registrationBody(eventID, c.name, c.phone, c.entryPath)
}

func (c customer) trimmedName() string { return strings.TrimSpace(c.name) }

func (c customer) maskedName() string {
	r := []rune(c.trimmedName())
	return string(r[0]) + strings.Repeat("*", len(r)-1)
}

func (c customer) digits() string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, c.phone)
}

func (c customer) maskedPhone() string { return "010-****-" + c.digits()[7:] }

func (c customer) storedPath() string { return strings.ToUpper(c.entryPath) }

// secrets are the customer's raw name and phone in every spelling.
func (c customer) secrets() []string {
	d := c.digits()
	mid, last := d[3:7], d[7:]
	s := []string{c.trimmedName(),
		"010-" + mid + "-" + last, d, "010 " + mid + " " + last, "010." + mid + "." + last,
		mid + "-" + last, mid + last, mid + " " + last, "010-" + mid, "010 " + mid,
		"+82-10-" + mid + "-" + last, "+82 10 " + mid + " " + last, "+8210" + mid + last, "8210" + mid + last}
	if r := []rune(c.trimmedName()); len(r) > 2 {
		s = append(s, string(r[1:])) // all but the letter the mask keeps
	}
	return s
}

func secretsOf(cs []customer) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.secrets()...)
	}
	return out
}

// --- the owner's read API ---

// ownerView reads as an owner and keeps every body it read, so a test can
// show that none carries personal data.
type ownerView struct {
	a     *testApp
	token string

	mu     sync.Mutex
	bodies []keptBody
}

type keptBody struct {
	path string
	body []byte
}

func (a *testApp) ownerView(owner string) *ownerView {
	return &ownerView{a: a, token: token(a.t, owner)}
}

func (v *ownerView) keep(path string, body []byte) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.bodies = append(v.bodies, keptBody{path, body})
}

// get reads path and fails the test unless it is 200.
func (v *ownerView) get(path string) answer {
	v.a.t.Helper()
	ans := v.a.call(http.MethodGet, path, v.token, nil)
	v.keep(path, ans.Body)
	if ans.Status != http.StatusOK {
		v.a.t.Fatalf("GET %s → %d, want 200: %s", path, ans.Status, ans.Body)
	}
	return ans
}

func readJSON[T any](v *ownerView, path string) T {
	v.a.t.Helper()
	return decode[T](v.a.t, v.get(path))
}

// assertNoPersonalData fails the test when any body read carries a raw name
// or phone number of the customers. JSON is compared decoded, so an escaped
// spelling (\uAE40) does not hide a name.
func (v *ownerView) assertNoPersonalData(t *testing.T, customers []customer) {
	t.Helper()
	secrets := secretsOf(customers)
	v.mu.Lock()
	defer v.mu.Unlock()
	if len(v.bodies) == 0 {
		t.Fatal("no read answer kept")
	}
	for _, b := range v.bodies {
		texts := []string{string(b.body)}
		var decoded any
		if json.Unmarshal(b.body, &decoded) == nil {
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			_ = enc.Encode(decoded)
			texts = append(texts, buf.String())
		}
		for _, text := range texts {
			for _, s := range secrets {
				if strings.Contains(text, s) {
					t.Errorf("GET %s carries the raw %q", b.path, s)
				}
			}
		}
	}
	maskedPhone := regexp.MustCompile(`^010-\*{4}-\d{4}$`)
	maskedName := regexp.MustCompile(`^\S\**$`)
	for _, b := range v.bodies {
		var page participantPage
		if strings.Contains(b.path, "/participants?") && json.Unmarshal(b.body, &page) == nil {
			for _, p := range page.Participants {
				if !maskedPhone.MatchString(p.Phone) || !maskedName.MatchString(p.Name) {
					t.Errorf("GET %s: participant %s shows %q %q, want them masked", b.path, p.EntryNumber, p.Name, p.Phone)
				}
			}
		}
	}
}

// allParticipants reads every page of the list with query and size, checking
// the paging fields, and returns the rows and the totalCount.
func (v *ownerView) allParticipants(eventID uuid.UUID, query url.Values, size int) ([]listedParticipant, int64) {
	t := v.a.t
	t.Helper()
	var rows []listedParticipant
	var total int64
	for page := 1; ; page++ {
		q := url.Values{}
		for k, vs := range query {
			q[k] = vs
		}
		q.Set("page", strconv.Itoa(page))
		q.Set("size", strconv.Itoa(size))
		p := readJSON[participantPage](v, participantsPath(eventID, q.Encode()))
		if page == 1 {
			total = p.TotalCount
		} else if p.TotalCount != total {
			t.Errorf("%s page %d: totalCount %d, page 1 said %d", q.Encode(), page, p.TotalCount, total)
		}
		if p.Page != page || p.Size != size || len(p.Participants) > size {
			t.Errorf("%s: page %d size %d with %d rows", q.Encode(), p.Page, p.Size, len(p.Participants))
		}
		rows = append(rows, p.Participants...)
		if len(p.Participants) < size { // the last page, or the empty one past it
			break
		}
		if page > 1000 {
			t.Fatalf("%s: more than 1000 pages", q.Encode())
		}
	}
	if int64(len(rows)) != total {
		t.Errorf("%s: %d rows over all pages, totalCount %d", query.Encode(), len(rows), total)
	}
	return rows, total
}

// assertEachOnce checks that the list and the analytics hold exactly the
// registrations answered 201, each once.
func (v *ownerView) assertEachOnce(t *testing.T, eventID uuid.UUID, created map[uuid.UUID]registered) {
	t.Helper()
	rows, total := v.allParticipants(eventID, nil, 100)
	counted := map[uuid.UUID]int{}
	for _, r := range rows {
		counted[r.ParticipantID]++
		if reg, ok := created[r.ParticipantID]; !ok || reg.EntryNumber != r.EntryNumber {
			t.Errorf("listed %s (%s) is not a registration answered 201", r.ParticipantID, r.EntryNumber)
		}
	}
	for id, reg := range created {
		if counted[id] != 1 {
			t.Errorf("registration %s listed %d times, want once", reg.EntryNumber, counted[id])
		}
	}
	if total != int64(len(created)) {
		t.Errorf("totalCount = %d, want the %d registrations answered 201", total, len(created))
	}
	an := readJSON[analyticsView](v, analyticsPath(eventID))
	hours := int64(0)
	for _, h := range an.ByHour {
		hours += h.Count
	}
	if n := int64(len(created)); an.TotalParticipants != n || sumValues(an.ByChannel) != n || hours != n {
		t.Errorf("analytics: %d participants, byChannel sums to %d, byHour to %d; want %d each",
			an.TotalParticipants, sumValues(an.ByChannel), hours, n)
	}
}

// checkAnalyticsJSON checks a streamed object against the spec's answer of
// GET analytics: the stream sends the same object.
func (a *testApp) checkAnalyticsJSON(eventID uuid.UUID, data string) {
	a.t.Helper()
	req, err := a.request(http.MethodGet, analyticsPath(eventID), "", nil)
	if err != nil {
		a.t.Fatal(err)
	}
	apitest.ValidateResponse(a.t, a.spec, req, &http.Response{StatusCode: http.StatusOK,
		Header: http.Header{"Content-Type": {"application/json; charset=utf-8"}}, Body: io.NopCloser(strings.NewReader(data))})
}

func participantsPath(eventID uuid.UUID, query string) string {
	return "/api/v1/events/" + eventID.String() + "/participants?" + query
}

func csvPath(eventID uuid.UUID) string {
	return "/api/v1/events/" + eventID.String() + "/participants.csv"
}

func analyticsPath(eventID uuid.UUID) string {
	return "/api/v1/events/" + eventID.String() + "/analytics"
}

func winnersPath(eventID uuid.UUID) string { return "/api/v1/events/" + eventID.String() + "/winners" }

func drawLogsPath(eventID uuid.UUID) string {
	return "/api/v1/events/" + eventID.String() + "/draw-logs"
}

type participantPage struct {
	Participants []listedParticipant `json:"participants"`
	TotalCount   int64               `json:"totalCount"`
	Page         int                 `json:"page"`
	Size         int                 `json:"size"`
}

type listedParticipant struct {
	ParticipantID  uuid.UUID `json:"participantId"`
	EntryNumber    string    `json:"entryNumber"`
	Name           string    `json:"name"`
	Phone          string    `json:"phone"`
	EntryPath      string    `json:"entryPath"`
	ParticipatedAt time.Time `json:"participatedAt"`
	StoreVisited   bool      `json:"storeVisited"`
	Winner         bool      `json:"winner"`
	Erased         bool      `json:"erased"`
}

// participantView is a listed participant but for the time.
type participantView struct {
	ParticipantID uuid.UUID
	EntryNumber   string
	Name, Phone   string
	EntryPath     string
	StoreVisited  bool
	Winner        bool
}

func views(rows []listedParticipant) []participantView {
	var out []participantView
	for _, p := range rows {
		out = append(out, participantView{p.ParticipantID, p.EntryNumber, p.Name, p.Phone, p.EntryPath, p.StoreVisited, p.Winner})
	}
	return out
}

type analyticsView struct {
	EventID           uuid.UUID        `json:"eventId"`
	TotalParticipants int64            `json:"totalParticipants"`
	ByChannel         map[string]int64 `json:"byChannel"`
	ByHour            []struct {
		Hour  string `json:"hour"`
		Count int64  `json:"count"`
	} `json:"byHour"`
	StoreVisits int64     `json:"storeVisits"`
	Winners     int64     `json:"winners"`
	Claimed     int64     `json:"claimed"`
	UpdatedAt   time.Time `json:"updatedAt"`
}

type winnerView struct {
	ParticipantID uuid.UUID `json:"participantId"`
	EntryNumber   string    `json:"entryNumber"`
	Name          string    `json:"name"`
	Phone         string    `json:"phone"`
	Rank          int       `json:"rank"`
}

type winnerList struct {
	EventID uuid.UUID    `json:"eventId"`
	Winners []winnerView `json:"winners"`
}

type drawLogView struct {
	DrawLogID        uuid.UUID        `json:"drawLogId"`
	DrawID           uuid.UUID        `json:"drawId"`
	EventID          uuid.UUID        `json:"eventId"`
	WinnerCount      int              `json:"winnerCount"`
	VisitBonus       bool             `json:"visitBonus"`
	VisitBonusWeight int              `json:"visitBonusWeight"`
	Algorithm        string           `json:"algorithm"`
	Seed             string           `json:"seed"`
	CandidateCount   int              `json:"candidateCount"`
	CandidatesDigest string           `json:"candidatesDigest"`
	CandidatesRoot   string           `json:"candidatesRoot"`
	State            string           `json:"state"`
	CutoffPosition   int64            `json:"cutoffPosition"`
	Winners          []drawnEntryJSON `json:"winners"`
	DrawnAt          time.Time        `json:"drawnAt"`
	DrawnBy          string           `json:"drawnBy"`
}

type drawLogList struct {
	EventID  uuid.UUID     `json:"eventId"`
	DrawLogs []drawLogView `json:"drawLogs"`
}

func sumValues(m map[string]int64) int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}
