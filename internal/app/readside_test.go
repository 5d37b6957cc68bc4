package app

// End-to-end tests of the read side: what customers and owners send over
// HTTP is stored, relayed to a real Kafka-protocol broker (kfake in process,
// or the Kafka named by KAFKA_BROKERS as in CI), consumed by the projectors
// into the read models, and answered by the owner's API. Every answer is
// checked against openapi.yaml. Waiting is polling with a deadline; nothing
// here measures time.

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill-kafka/v3/pkg/kafka"
	gocmp "github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
)

// Test 1: every read model, every filter, the CSV and the analytics agree
// with each other and with what was registered, all of it masked.
func TestReadSideShowsEveryRegistrationMasked(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	a.run()
	owner := a.ownerView(ownerA)
	eventID := a.openCampaign(ownerA, openNow())

	const n, winnerCount = 60, 5
	regs := make([]registered, n)
	for i := range n {
		regs[i] = a.registerCustomer(eventID, aCustomer(i), "")
	}
	visited := map[int]bool{}
	for i := 3; i < n; i += 7 {
		a.visit(eventID, regs[i].EntryNumber, "")
		visited[i] = true
	}
	drawAns := a.call(http.MethodPost, drawPath(eventID), token(t, ownerA),
		map[string]any{"winnerCount": winnerCount, "visitBonus": true})
	if drawAns.Status != http.StatusOK {
		t.Fatalf("draw → %d, want 200: %s", drawAns.Status, drawAns.Body)
	}
	drawn := decode[drawJSON](t, drawAns)
	rank := map[uuid.UUID]int{}
	for _, w := range drawn.Winners {
		rank[w.ParticipantID] = w.Rank
	}

	waitUntil(t, "the registrations, visits and draw in every read model", func() error {
		an := readJSON[analyticsView](owner, analyticsPath(eventID))
		if an.TotalParticipants != n || an.StoreVisits != int64(len(visited)) || an.Winners != winnerCount {
			return fmt.Errorf("analytics: %d participants, %d visits, %d winners", an.TotalParticipants, an.StoreVisits, an.Winners)
		}
		// The draw is the campaign's last event: the participants model
		// counting its winners has applied everything before it.
		if p := readJSON[participantPage](owner, participantsPath(eventID, "winner=true&size=1")); p.TotalCount != winnerCount {
			return fmt.Errorf("participants: %d winners", p.TotalCount)
		}
		if w := readJSON[winnerList](owner, winnersPath(eventID)); len(w.Winners) != winnerCount {
			return fmt.Errorf("winners: %d", len(w.Winners))
		}
		if d := readJSON[drawLogList](owner, drawLogsPath(eventID)); len(d.DrawLogs) != 1 {
			return fmt.Errorf("draw logs: %d", len(d.DrawLogs))
		}
		return nil
	})

	// What the read models must say, newest first.
	var want []participantView
	for i := n - 1; i >= 0; i-- {
		c := regs[i].customer
		want = append(want, participantView{regs[i].ParticipantID, regs[i].EntryNumber, c.maskedName(), c.maskedPhone(),
			c.storedPath(), visited[i], rank[regs[i].ParticipantID] > 0})
	}
	filtered := func(keep func(participantView) bool) []participantView {
		var out []participantView
		for _, p := range want {
			if keep(p) {
				out = append(out, p)
			}
		}
		return out
	}

	// The whole list, page by page.
	listed, total := owner.allParticipants(eventID, nil, 7)
	if total != n {
		t.Errorf("participants totalCount = %d, want %d", total, n)
	}
	if diff := gocmp.Diff(want, views(listed)); diff != "" {
		t.Errorf("participants, newest first (-want +got):\n%s", diff)
	}
	stamps := a.registrationTimes(eventID)
	for _, p := range listed {
		if at, ok := stamps[p.ParticipantID]; !ok || p.ParticipatedAt.Sub(at).Abs() > time.Microsecond {
			t.Errorf("participant %s participatedAt = %s, want the stored %s", p.EntryNumber, p.ParticipatedAt, at)
		}
	}

	// Filters: each channel (sent in lower case), winners, non-winners, and both.
	yes, no := true, false
	for _, tc := range []struct {
		name   string
		query  url.Values
		path   string
		winner *bool
	}{
		{name: "winners", query: url.Values{"winner": {"true"}}, winner: &yes},
		{name: "non_winners", query: url.Values{"winner": {"false"}}, winner: &no},
	} {
		got, total := owner.allParticipants(eventID, tc.query, 4)
		wantRows := filtered(func(p participantView) bool { return p.Winner == *tc.winner })
		if total != int64(len(wantRows)) {
			t.Errorf("%s: totalCount = %d, want %d", tc.name, total, len(wantRows))
		}
		if diff := gocmp.Diff(wantRows, views(got)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.name, diff)
		}
	}
	for _, path := range entryPaths {
		sum := int64(0)
		for _, winner := range []*bool{nil, &yes, &no} {
			q := url.Values{"entryPath": {strings.ToLower(path)}}
			name := "entryPath=" + path
			if winner != nil {
				q.Set("winner", strconv.FormatBool(*winner))
				name += "&winner=" + strconv.FormatBool(*winner)
			}
			got, total := owner.allParticipants(eventID, q, 3)
			wantRows := filtered(func(p participantView) bool {
				return p.EntryPath == path && (winner == nil || p.Winner == *winner)
			})
			if total != int64(len(wantRows)) {
				t.Errorf("%s: totalCount = %d, want %d", name, total, len(wantRows))
			}
			if diff := gocmp.Diff(wantRows, views(got)); diff != "" {
				t.Errorf("%s (-want +got):\n%s", name, diff)
			}
			if winner != nil {
				sum += total
			}
		}
		if channel := int64(len(filtered(func(p participantView) bool { return p.EntryPath == path }))); sum != channel {
			t.Errorf("entryPath=%s: winners + non-winners = %d, want the channel's %d", path, sum, channel)
		}
	}

	// The CSV: BOM, one header, one row per participant, newest first.
	csvAns := owner.get(csvPath(eventID))
	if ct := csvAns.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
		t.Errorf("CSV Content-Type = %q, want text/csv", ct)
	}
	body, hasBOM := bytes.CutPrefix(csvAns.Body, []byte("\uFEFF"))
	if !hasBOM {
		t.Errorf("CSV does not start with the UTF-8 BOM: %q", csvAns.Body[:min(len(csvAns.Body), 16)])
	}
	records, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatalf("CSV: %v", err)
	}
	wantHeader := []string{"entryNumber", "name", "phone", "entryPath", "participatedAt", "storeVisited", "winner", "erased"}
	if len(records) == 0 || !slices.Equal(records[0], wantHeader) {
		t.Fatalf("CSV header = %q, want %q", records[:min(len(records), 1)], wantHeader)
	}
	var wantCSV [][]string
	for _, p := range listed {
		wantCSV = append(wantCSV, []string{p.EntryNumber, p.Name, p.Phone, p.EntryPath,
			p.ParticipatedAt.In(kst).Format(time.RFC3339), strconv.FormatBool(p.StoreVisited), strconv.FormatBool(p.Winner),
			strconv.FormatBool(p.Erased)})
	}
	if diff := gocmp.Diff(wantCSV, records[1:]); diff != "" {
		t.Errorf("CSV rows, one per listed participant (-want +got):\n%s", diff)
	}

	// Analytics.
	an := readJSON[analyticsView](owner, analyticsPath(eventID))
	byChannel, byHour := map[string]int64{}, map[string]int64{}
	for _, p := range listed {
		byChannel[p.EntryPath]++
		byHour[p.ParticipatedAt.In(kst).Truncate(time.Hour).Format(time.RFC3339)]++
	}
	if an.EventID != eventID || an.TotalParticipants != n || an.StoreVisits != int64(len(visited)) || an.Winners != winnerCount {
		t.Errorf("analytics = eventId %s, %d participants, %d visits, %d winners; want %s, %d, %d, %d",
			an.EventID, an.TotalParticipants, an.StoreVisits, an.Winners, eventID, n, len(visited), winnerCount)
	}
	if diff := gocmp.Diff(byChannel, an.ByChannel); diff != "" {
		t.Errorf("analytics byChannel (-want +got):\n%s", diff)
	}
	if got := sumValues(an.ByChannel); got != n {
		t.Errorf("analytics byChannel sums to %d, want %d", got, n)
	}
	gotHours, hourSum := map[string]int64{}, int64(0)
	for _, h := range an.ByHour {
		gotHours[h.Hour] += h.Count
		hourSum += h.Count
		if !strings.HasSuffix(h.Hour, "+09:00") || !strings.Contains(h.Hour, ":00:00+") {
			t.Errorf("analytics hour %q is not the start of an hour in Asia/Seoul", h.Hour)
		}
	}
	if hourSum != n {
		t.Errorf("analytics byHour sums to %d, want %d", hourSum, n)
	}
	if diff := gocmp.Diff(byHour, gotHours); diff != "" {
		t.Errorf("analytics byHour (-want +got):\n%s", diff)
	}
	if an.UpdatedAt.IsZero() {
		t.Errorf("analytics updatedAt is zero")
	}

	// Winners: the draw's, by rank, masked.
	byID := map[uuid.UUID]registered{}
	for _, r := range regs {
		byID[r.ParticipantID] = r
	}
	winners := readJSON[winnerList](owner, winnersPath(eventID))
	var wantWinners []winnerView
	for i, w := range drawn.Winners {
		c := byID[w.ParticipantID].customer
		wantWinners = append(wantWinners, winnerView{w.ParticipantID, w.EntryNumber, c.maskedName(), c.maskedPhone(), i + 1})
	}
	if winners.EventID != eventID {
		t.Errorf("winners eventId = %s, want %s", winners.EventID, eventID)
	}
	if diff := gocmp.Diff(wantWinners, winners.Winners); diff != "" {
		t.Errorf("winners, by rank 1..%d (-want +got):\n%s", winnerCount, diff)
	}

	// Draw logs: the list and the single log agree with the draw.
	logs := readJSON[drawLogList](owner, drawLogsPath(eventID))
	if len(logs.DrawLogs) != 1 {
		t.Fatalf("draw logs = %d, want 1", len(logs.DrawLogs))
	}
	d := logs.DrawLogs[0]
	stored := a.winnersDrawn(eventID)
	var wantDrawn []drawnEntryJSON
	for _, w := range drawn.Winners {
		wantDrawn = append(wantDrawn, drawnEntryJSON{w.ParticipantID, w.EntryNumber, w.Rank})
	}
	if d.DrawLogID != drawn.DrawLogID || d.DrawID != drawn.DrawLogID || d.EventID != eventID || d.WinnerCount != winnerCount ||
		!d.VisitBonus || d.VisitBonusWeight != 2 || d.CandidateCount != n || d.CutoffPosition != stored.CutoffPosition || d.DrawnBy != ownerA {
		t.Errorf("draw log = %+v; want drawLogId %s, eventId %s, winnerCount %d, visitBonus with weight 2, candidateCount %d, cutoffPosition %d, drawnBy %s",
			d, drawn.DrawLogID, eventID, winnerCount, n, stored.CutoffPosition, ownerA)
	}
	hex64 := regexp.MustCompile(`^[0-9a-f]{64}$`)
	if !hex64.MatchString(d.Seed) || !hex64.MatchString(d.CandidatesRoot) || d.Algorithm != "chacha8-weighted-merkle-v2" || d.State != "DRAWN" || d.DrawnAt.IsZero() {
		t.Errorf("draw log seed %q (want 32 bytes in hex), candidatesRoot %q (likewise), algorithm %q, state %q, drawnAt %s: want them all",
			d.Seed, d.CandidatesRoot, d.Algorithm, d.State, d.DrawnAt)
	}
	if diff := gocmp.Diff(wantDrawn, d.Winners); diff != "" {
		t.Errorf("draw log winners (-want +got):\n%s", diff)
	}
	one := readJSON[drawLogView](owner, "/api/v1/draw-logs/"+drawn.DrawLogID.String())
	if diff := gocmp.Diff(d, one); diff != "" {
		t.Errorf("/draw-logs/{id} differs from the campaign's draw-logs entry (-list +one):\n%s", diff)
	}

	owner.assertNoPersonalData(t, customersOf(regs))
}

// Test 2: the topic, read by an independent client, carries every stored
// event once, keyed by campaign, with the contract's headers, and with the
// personal data masked.
func TestTopicCarriesEveryEventOnceMasked(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	a.run()
	eventID := uuid.New()
	ans := a.command(http.MethodPost, "/api/v1/events", token(t, ownerA), campaignBody(eventID, "토픽 이벤트", openNow()), "corr-open")
	if ans.Status != http.StatusCreated {
		t.Fatalf("open campaign → %d: %s", ans.Status, ans.Body)
	}
	const n = 20
	regs := make([]registered, n)
	index := map[uuid.UUID]int{}
	for i := range n {
		regs[i] = a.registerCustomer(eventID, aCustomer(i), fmt.Sprintf("corr-reg-%d", i))
		index[regs[i].ParticipantID] = i
	}
	for i := 0; i < n; i += 5 {
		a.visit(eventID, regs[i].EntryNumber, fmt.Sprintf("corr-visit-%d", i))
	}
	ans = a.command(http.MethodPost, drawPath(eventID), token(t, ownerA), map[string]any{"winnerCount": 3}, "corr-draw")
	if ans.Status != http.StatusOK {
		t.Fatalf("draw → %d: %s", ans.Status, ans.Body)
	}

	head := a.head()
	waitUntil(t, "the relay publishing up to the store's head", func() error {
		if p := a.svc.relay.Position(); p < head {
			return fmt.Errorf("relay at %d, head %d", p, head)
		}
		return nil
	})
	stored := a.storedEvents()
	records := wholeTopic(t, a.brokers, a.topic)

	secrets := secretsOf(customersOf(regs))
	seen := map[uuid.UUID]int{}
	lastPosition := map[string]int64{}
	for _, r := range records {
		id, err := uuid.Parse(r.headers[kafka.UUIDHeaderKey])
		if err != nil {
			t.Errorf("record at %d/%d: message uuid %q: %v", r.partition, r.offset, r.headers[kafka.UUIDHeaderKey], err)
			continue
		}
		seen[id]++
		e, ok := stored[id]
		if !ok {
			t.Errorf("record %s is no stored event", id)
			continue
		}
		if got, want := r.key, eventID.String(); got != want {
			t.Errorf("record %s (%s) key = %q, want the campaign's eventId %q", id, e.Type, got, want)
		}
		var data struct {
			ParticipantID uuid.UUID `json:"participantId"`
		}
		_ = json.Unmarshal(e.Data, &data)
		wantCorrelation := map[string]string{
			"CampaignOpened":        "corr-open",
			"ParticipantRegistered": fmt.Sprintf("corr-reg-%d", index[data.ParticipantID]),
			"StoreVisitRecorded":    fmt.Sprintf("corr-visit-%d", index[data.ParticipantID]),
			"DrawCommitted":         "corr-draw",
			"WinnersDrawn":          "corr-draw",
		}[e.Type]
		for _, h := range []struct{ key, want string }{
			{"event_type", e.Type},
			{"stream_id", e.StreamID},
			{"stream_version", strconv.FormatInt(e.StreamVersion, 10)},
			{"position", strconv.FormatInt(e.Position, 10)},
			{"schema_version", strconv.Itoa(e.SchemaVersion)},
			{"correlation_id", wantCorrelation},
		} {
			if got := r.headers[h.key]; got != h.want || got == "" {
				t.Errorf("record %s (%s) header %s = %q, want %q", id, e.Type, h.key, got, h.want)
			}
		}
		if pos := e.Position; pos <= lastPosition[r.key] {
			t.Errorf("record %s at position %d after %d on key %s: out of order", id, pos, lastPosition[r.key], r.key)
		} else {
			lastPosition[r.key] = pos
		}
		everything := string(r.value) + "\n" + r.key + "\n" + fmt.Sprint(r.headers)
		for _, s := range secrets {
			if strings.Contains(everything, s) {
				t.Errorf("record %s (%s) carries the raw %q", id, e.Type, s)
			}
		}
		if e.Type == "ParticipantRegistered" {
			checkPublicRegistration(t, r.value, e.Data, regs[index[data.ParticipantID]], eventID)
		}
	}
	for id, e := range stored {
		if seen[id] != 1 {
			t.Errorf("stored %s %s is on the topic %d times, want once", e.Type, id, seen[id])
		}
	}
	if got, want := len(records), len(stored); got != want {
		t.Errorf("records on the topic = %d, want the %d stored events", got, want)
	}
}

// checkPublicRegistration checks a ParticipantRegistered payload on the
// topic: the seed's contract fields under their JSON names, and personal data
// masked if there at all.
func checkPublicRegistration(t *testing.T, value, storedData []byte, reg registered, eventID uuid.UUID) {
	t.Helper()
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(value, &fields); err != nil {
		t.Errorf("registration %s payload: %v: %s", reg.EntryNumber, err, value)
		return
	}
	for _, key := range []string{"participantId", "eventId", "entryPath", "timestamp"} {
		if _, ok := fields[key]; !ok {
			t.Errorf("registration %s payload lacks %q: %s", reg.EntryNumber, key, value)
		}
	}
	var got, inStore struct {
		ParticipantID uuid.UUID `json:"participantId"`
		EventID       uuid.UUID `json:"eventId"`
		EntryPath     string    `json:"entryPath"`
		Timestamp     time.Time `json:"timestamp"`
		Name          *string   `json:"name"`
		Phone         *string   `json:"phone"`
	}
	if err := json.Unmarshal(value, &got); err != nil {
		t.Errorf("registration %s payload: %v", reg.EntryNumber, err)
		return
	}
	_ = json.Unmarshal(storedData, &inStore)
	if got.ParticipantID != reg.ParticipantID || got.EventID != eventID || got.EntryPath != reg.customer.storedPath() ||
		!got.Timestamp.Equal(inStore.Timestamp) || got.Timestamp.IsZero() {
		t.Errorf("registration %s payload = participantId %s, eventId %s, entryPath %s, timestamp %s; want %s, %s, %s, %s",
			reg.EntryNumber, got.ParticipantID, got.EventID, got.EntryPath, got.Timestamp,
			reg.ParticipantID, eventID, reg.customer.storedPath(), inStore.Timestamp)
	}
	if got.Name != nil && *got.Name != reg.customer.maskedName() {
		t.Errorf("registration %s payload name = %q, want it masked %q", reg.EntryNumber, *got.Name, reg.customer.maskedName())
	}
	if got.Phone != nil && *got.Phone != reg.customer.maskedPhone() {
		t.Errorf("registration %s payload phone = %q, want it masked %q", reg.EntryNumber, *got.Phone, reg.customer.maskedPhone())
	}
}

// Test 3: a visit and a draw sent right after the registrations (no wait)
// are applied after them: the flags are there.
func TestOrderVisitsAndDrawsFollowRegistrations(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	a.run()
	owner := a.ownerView(ownerA)
	// Two campaigns, interleaved: two partition keys in flight at once.
	everyone, some := a.openCampaign(ownerA, openNow()), a.openCampaign(ownerA, openNow())
	const k = 12
	var regsAll, regsSome []registered
	visitedAll, visitedSome := map[uuid.UUID]bool{}, map[uuid.UUID]bool{}
	for i := range k {
		r := a.registerCustomer(everyone, aCustomer(i), "")
		regsAll = append(regsAll, r)
		if i%2 == 1 { // visited right after registering
			a.visit(everyone, r.EntryNumber, "")
			visitedAll[r.ParticipantID] = true
		}
		r = a.registerCustomer(some, aCustomer(100+i), "")
		regsSome = append(regsSome, r)
		if i%3 == 0 {
			a.visit(some, r.EntryNumber, "")
			visitedSome[r.ParticipantID] = true
		}
	}
	// Everyone wins the first: a draw applied before any registration would
	// leave that row without its flag.
	drawnAll := a.drawWith(ownerA, everyone, map[string]any{"winnerCount": k, "visitBonus": true})
	drawnSome := a.drawWith(ownerA, some, map[string]any{"winnerCount": 3})

	for _, tc := range []struct {
		name    string
		eventID uuid.UUID
		regs    []registered
		visited map[uuid.UUID]bool
		drawn   drawJSON
	}{
		{"all_win", everyone, regsAll, visitedAll, drawnAll},
		{"three_win", some, regsSome, visitedSome, drawnSome},
	} {
		t.Run(tc.name, func(t *testing.T) {
			waitUntil(t, "the draw in the participants model", func() error {
				if p := readJSON[participantPage](owner, participantsPath(tc.eventID, "winner=true&size=1")); p.TotalCount != int64(len(tc.drawn.Winners)) {
					return fmt.Errorf("%d winners", p.TotalCount)
				}
				an := readJSON[analyticsView](owner, analyticsPath(tc.eventID))
				if an.Winners != int64(len(tc.drawn.Winners)) {
					return fmt.Errorf("analytics: %d winners", an.Winners)
				}
				// the winners model is a consumer of its own: it may come later
				if w := readJSON[winnerList](owner, winnersPath(tc.eventID)); len(w.Winners) != len(tc.drawn.Winners) {
					return fmt.Errorf("winners model: %d winners", len(w.Winners))
				}
				return nil
			})
			winner := map[uuid.UUID]bool{}
			for _, w := range tc.drawn.Winners {
				winner[w.ParticipantID] = true
			}
			var want []participantView
			for _, r := range slices.Backward(tc.regs) {
				want = append(want, participantView{r.ParticipantID, r.EntryNumber, r.customer.maskedName(), r.customer.maskedPhone(),
					r.customer.storedPath(), tc.visited[r.ParticipantID], winner[r.ParticipantID]})
			}
			got, total := owner.allParticipants(tc.eventID, nil, 100)
			if total != k {
				t.Errorf("totalCount = %d, want %d", total, k)
			}
			if diff := gocmp.Diff(want, views(got)); diff != "" {
				t.Errorf("participants with their visit and winner flags (-want +got):\n%s", diff)
			}
			an := readJSON[analyticsView](owner, analyticsPath(tc.eventID))
			if an.TotalParticipants != k || an.StoreVisits != int64(len(tc.visited)) || an.Winners != int64(len(tc.drawn.Winners)) {
				t.Errorf("analytics = %d participants, %d visits, %d winners; want %d, %d, %d",
					an.TotalParticipants, an.StoreVisits, an.Winners, k, len(tc.visited), len(tc.drawn.Winners))
			}
			winners := readJSON[winnerList](owner, winnersPath(tc.eventID))
			if len(winners.Winners) != len(tc.drawn.Winners) {
				t.Fatalf("winners = %d, want %d", len(winners.Winners), len(tc.drawn.Winners))
			}
			for i, w := range winners.Winners {
				if w.Rank != i+1 || w.ParticipantID != tc.drawn.Winners[i].ParticipantID {
					t.Errorf("winner %d = %s rank %d, want %s rank %d", i, w.ParticipantID, w.Rank, tc.drawn.Winners[i].ParticipantID, i+1)
				}
			}
		})
	}
	owner.assertNoPersonalData(t, customersOf(slices.Concat(regsAll, regsSome)))
}
