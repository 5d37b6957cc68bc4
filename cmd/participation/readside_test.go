package main

// End-to-end tests of the read side: what customers and owners send over
// HTTP is stored, relayed to a real Kafka-protocol broker (kfake in process,
// or the Kafka named by KAFKA_BROKERS as in CI), consumed by the projectors
// into the read models, and answered by the owner's API. Every answer is
// checked against openapi.yaml. Waiting is polling with a deadline; nothing
// here measures time.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill-kafka/v3/pkg/kafka"
	gocmp "github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/shopevents/participation/api"
	"github.com/shopevents/participation/api/apitest"
	"github.com/shopevents/participation/internal/testenv"
)

// waitLimit bounds every wait for the read side to catch up.
const waitLimit = 60 * time.Second

// relayPublishFailed is the relay's log line when Kafka refuses a batch.
const relayPublishFailed = `"msg":"relay: publish failed"`

// entryPaths are the contract's channels.
var entryPaths = []string{"WOORIDONGNE_TV", "RINGO_BIZ", "INSTAGRAM", "NAVER_BLOG", "KAKAO", "SNS_OTHER", "STORE_QR", "OTHER"}

var kst = time.FixedZone("KST", 9*60*60)

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

	eventually(t, "the registrations, visits and draw in every read model", func() error {
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
	wantHeader := []string{"entryNumber", "name", "phone", "entryPath", "participatedAt", "storeVisited", "winner"}
	if len(records) == 0 || !slices.Equal(records[0], wantHeader) {
		t.Fatalf("CSV header = %q, want %q", records[:min(len(records), 1)], wantHeader)
	}
	var wantCSV [][]string
	for _, p := range listed {
		wantCSV = append(wantCSV, []string{p.EntryNumber, p.Name, p.Phone, p.EntryPath,
			p.ParticipatedAt.In(kst).Format(time.RFC3339), strconv.FormatBool(p.StoreVisited), strconv.FormatBool(p.Winner)})
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
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(d.Seed) || d.CandidatesDigest == "" || d.Algorithm == "" || d.DrawnAt.IsZero() {
		t.Errorf("draw log seed %q (want 32 bytes in hex), candidatesDigest %q, algorithm %q, drawnAt %s: want them all",
			d.Seed, d.CandidatesDigest, d.Algorithm, d.DrawnAt)
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
	eventually(t, "the relay publishing up to the store's head", func() error {
		if p := a.app.relay.Position(); p < head {
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
			eventually(t, "the draw in the participants model", func() error {
				if p := readJSON[participantPage](owner, participantsPath(tc.eventID, "winner=true&size=1")); p.TotalCount != int64(len(tc.drawn.Winners)) {
					return fmt.Errorf("%d winners", p.TotalCount)
				}
				an := readJSON[analyticsView](owner, analyticsPath(tc.eventID))
				if an.Winners != int64(len(tc.drawn.Winners)) {
					return fmt.Errorf("analytics: %d winners", an.Winners)
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

// Test 4: with Kafka down, customers still register; when it is back,
// every registration reaches every read model once.
//
// This test always runs on kfake, even when KAFKA_BROKERS names a real Kafka
// (as in CI): it stops the broker and starts it again on the same port with
// the same data directory, which it can do only with a broker of its own.
func TestOutageLosesNoRegistration(t *testing.T) {
	t.Parallel()
	port, dir := freePort(t), t.TempDir()
	var broker *kfake.Cluster
	startBroker := func() {
		t.Helper()
		c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.Ports(port), kfake.AllowAutoTopicCreation(),
			kfake.DefaultNumPartitions(3), kfake.DataDir(dir), kfake.SyncWrites())
		if err != nil {
			t.Fatalf("start kfake on port %d: %v", port, err)
		}
		broker = c
	}
	startBroker()
	t.Cleanup(func() { broker.Close() }) // after the app below stopped
	a := newTestAppWith(t, appSetup{Brokers: broker.ListenAddrs()})
	a.run()
	owner := a.ownerView(ownerA)
	eventID := a.openCampaign(ownerA, openNow())

	created := map[uuid.UUID]registered{}
	register := func(from, to int) {
		t.Helper()
		for i := from; i < to; i++ {
			ans, err := a.try(http.MethodPost, participationsPath, "", aCustomer(i).body(eventID))
			if err != nil {
				t.Fatal(err)
			}
			if ans.Status != http.StatusCreated {
				t.Errorf("registration %d → %d, want 201: %s", i, ans.Status, ans.Body)
				continue
			}
			reg := decode[registrationJSON](t, ans)
			created[reg.ParticipantID] = registered{reg, aCustomer(i)}
		}
	}
	register(0, 5)
	eventually(t, "the first registrations projected", func() error {
		if an := readJSON[analyticsView](owner, analyticsPath(eventID)); an.TotalParticipants != 5 {
			return fmt.Errorf("analytics: %d participants", an.TotalParticipants)
		}
		return nil
	})

	failedBefore := strings.Count(a.logs.String(), relayPublishFailed)
	broker.Close()
	register(5, 30)
	var visitedEntry string
	for _, r := range created {
		visitedEntry = r.EntryNumber
		break
	}
	a.visit(eventID, visitedEntry, "")
	if got, want := len(created), 30; got != want {
		t.Fatalf("registrations answered 201 with Kafka down: %d of %d", got-5, want-5)
	}
	// Kafka stays down until the relay has tried and failed, so the outage
	// is one the relay saw, not a blip its producer's retries hid.
	head := a.head()
	eventually(t, "the relay failing to publish with Kafka down", func() error {
		if strings.Count(a.logs.String(), relayPublishFailed) > failedBefore || a.app.relay.Position() >= head {
			return nil
		}
		return errors.New("no failed publish yet")
	})
	if p := a.app.relay.Position(); p >= head {
		t.Errorf("relay position %d reached the head %d with the broker down", p, head)
	}

	startBroker()
	eventually(t, "every registration projected after the outage", func() error {
		an := readJSON[analyticsView](owner, analyticsPath(eventID))
		p := readJSON[participantPage](owner, participantsPath(eventID, "size=1"))
		if an.TotalParticipants != int64(len(created)) || an.StoreVisits != 1 || p.TotalCount != int64(len(created)) {
			return fmt.Errorf("analytics: %d participants, %d visits; list: %d", an.TotalParticipants, an.StoreVisits, p.TotalCount)
		}
		return nil
	})
	owner.assertEachOnce(t, eventID, created)
	owner.assertNoPersonalData(t, customersOf(slices.Collect(maps.Values(created))))
}

// Test 5: two instances on one database and topic: one relay publishes,
// the other takes over when it stops, and no registration is lost or
// counted twice.
func TestInstancesShareOneRelayAndTakeOver(t *testing.T) {
	t.Parallel()
	setup := appSetup{DatabaseURL: testenv.Database(t), Brokers: testenv.KafkaBrokers(t), Topic: testenv.Topic(t)}
	instances := []*testApp{newTestAppWith(t, setup), newTestAppWith(t, setup)}
	stops := []func(){instances[0].run(), instances[1].run()}
	bothLead := func() error {
		if instances[0].app.relay.Leader() && instances[1].app.relay.Leader() {
			return errors.New("both relays lead")
		}
		return nil
	}
	leader := -1
	eventually(t, "one relay leading", func() error {
		if err := bothLead(); err != nil {
			t.Fatal(err)
		}
		for i, in := range instances {
			if in.app.relay.Leader() {
				leader = i
				return nil
			}
		}
		return errors.New("no relay leads")
	})
	standby := 1 - leader
	a := instances[0]
	owner := a.ownerView(ownerA)
	campaigns := []uuid.UUID{a.openCampaign(ownerA, openNow()), a.openCampaign(ownerA, openNow())}

	created := map[uuid.UUID]map[uuid.UUID]registered{campaigns[0]: {}, campaigns[1]: {}}
	total := func() int { return len(created[campaigns[0]]) + len(created[campaigns[1]]) }
	register := func(from, to int) {
		t.Helper()
		for i := from; i < to; i++ {
			in, eventID := instances[i%2], campaigns[(i/2)%2] // every instance, every campaign
			ans, err := in.try(http.MethodPost, participationsPath, "", aCustomer(i).body(eventID))
			if err != nil {
				t.Fatal(err)
			}
			if ans.Status != http.StatusCreated {
				t.Errorf("registration %d → %d, want 201: %s", i, ans.Status, ans.Body)
				continue
			}
			reg := decode[registrationJSON](t, ans)
			created[eventID][reg.ParticipantID] = registered{reg, aCustomer(i)}
		}
	}
	projected := func() error {
		for _, eventID := range campaigns {
			for _, in := range instances {
				view := in.ownerView(ownerA)
				an := readJSON[analyticsView](view, analyticsPath(eventID))
				p := readJSON[participantPage](view, participantsPath(eventID, "size=1"))
				if want := int64(len(created[eventID])); an.TotalParticipants != want || p.TotalCount != want {
					return fmt.Errorf("campaign %s: analytics %d, list %d, want %d", eventID, an.TotalParticipants, p.TotalCount, want)
				}
			}
		}
		return nil
	}

	register(0, 16)
	head := a.head()
	eventually(t, "the leader publishing and both read sides projecting", func() error {
		if err := bothLead(); err != nil {
			t.Fatal(err)
		}
		if p := instances[leader].app.relay.Position(); p < head {
			return fmt.Errorf("leader at %d, head %d", p, head)
		}
		return projected()
	})
	if s := instances[standby].app.relay; s.Leader() || s.Position() != 0 {
		t.Errorf("the standby relay leads (%t) or published (position %d)", s.Leader(), s.Position())
	}

	stops[leader]() // its HTTP server keeps taking registrations
	register(16, 32)
	head = a.head()
	eventually(t, "the standby taking over and everything projected", func() error {
		if s := instances[standby].app.relay; !s.Leader() || s.Position() < head {
			return fmt.Errorf("standby leads: %t, at %d, head %d", s.Leader(), s.Position(), head)
		}
		return projected()
	})
	if got, want := total(), 32; got != want {
		t.Fatalf("registrations answered 201 = %d, want %d", got, want)
	}
	for _, eventID := range campaigns {
		owner.assertEachOnce(t, eventID, created[eventID])
	}

	// At least once: every stored event is on the topic; a takeover may have
	// published some twice, which the read models absorbed above.
	stored := a.storedEvents()
	seen := map[string]int{}
	records := wholeTopic(t, setup.Brokers, setup.Topic)
	for _, r := range records {
		seen[r.headers[kafka.UUIDHeaderKey]]++
	}
	for id, e := range stored {
		if seen[id.String()] == 0 {
			t.Errorf("stored %s %s is not on the topic", e.Type, id)
		}
	}
	if got, want := len(seen), len(stored); got != want {
		t.Errorf("distinct event ids on the topic = %d, want the %d stored", got, want)
	}
	t.Logf("%d events stored, %d records on the topic (%d duplicates after the takeover)", len(stored), len(records), len(records)-len(seen))
	owner.assertNoPersonalData(t, customersOf(slices.Concat(slices.Collect(maps.Values(created[campaigns[0]])),
		slices.Collect(maps.Values(created[campaigns[1]])))))
}

// Test 6: the analytics stream sends the current figures at once, again
// after every registration, to every subscriber, and ends on the server when
// the client goes.
func TestSSEStreamsLiveAnalytics(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	a.run()
	owner := a.ownerView(ownerA)
	eventID := a.openCampaign(ownerA, openNow())
	regs := []registered{a.registerCustomer(eventID, aCustomer(0), ""), a.registerCustomer(eventID, aCustomer(1), "")}
	eventually(t, "the first registrations in the analytics", func() error {
		if an := readJSON[analyticsView](owner, analyticsPath(eventID)); an.TotalParticipants != 2 {
			return fmt.Errorf("%d participants", an.TotalParticipants)
		}
		return nil
	})

	first := a.openStream(eventID)
	if diff := gocmp.Diff(readJSON[analyticsView](owner, analyticsPath(eventID)), first.figures(t)); diff != "" {
		t.Errorf("first stream: figures on connect differ from GET analytics (-get +stream):\n%s", diff)
	}
	// Live: a registration reaches the open stream.
	regs = append(regs, a.registerCustomer(eventID, aCustomer(2), ""))
	first.until(t, 3, regs[2].customer.storedPath())

	// The service's change listener runs now (the first stream saw a change),
	// so the second stream gets figures before any further change only if
	// they are sent at once on connect.
	second := a.openStream(eventID)
	if diff := gocmp.Diff(readJSON[analyticsView](owner, analyticsPath(eventID)), second.figures(t)); diff != "" {
		t.Errorf("second stream: figures on connect differ from GET analytics (-get +stream):\n%s", diff)
	}
	regs = append(regs, a.registerCustomer(eventID, aCustomer(3), ""))
	for _, s := range []*sseStream{first, second} {
		s.until(t, 4, regs[3].customer.storedPath())
		// The bytes so far are an answer of this operation.
		apitest.ValidateResponse(t, a.spec, s.req, &http.Response{StatusCode: s.resp.StatusCode, Header: s.resp.Header,
			Body: io.NopCloser(strings.NewReader(s.raw()))})
		owner.keep("analytics stream", []byte(s.raw()))
	}

	for _, s := range []*sseStream{first, second} {
		s.cancel()
		s.waitClosed(t)
		eventually(t, "the server ending the stream", func() error {
			for line := range strings.Lines(a.logs.String()) {
				var entry struct {
					Msg           string `json:"msg"`
					Route         string `json:"route"`
					CorrelationID string `json:"correlation_id"`
				}
				if json.Unmarshal([]byte(line), &entry) == nil && entry.Msg == "http request" &&
					entry.CorrelationID == s.correlation && entry.Route == "/api/v1/events/:eventId/analytics/stream" {
					return nil
				}
			}
			return fmt.Errorf("no request line for the stream %s yet", s.correlation)
		})
		for line := range strings.Lines(a.logs.above(slog.LevelInfo)) {
			if strings.Contains(line, s.correlation) {
				t.Errorf("the stream's end was logged above info: %s", line)
			}
		}
	}
	owner.assertNoPersonalData(t, customersOf(regs))
}

// --- the running app ---

// run starts the app's relay and projectors (app.run, as serve does) until
// the test ends or stop is called; stop waits for them to return.
func (a *testApp) run() (stop func()) {
	t := a.t
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.app.run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("app.run: %v", err)
			}
		})
	}
	t.Cleanup(stop) // before the HTTP server, the app and the database go
	return stop
}

// eventually polls check until it returns nil, failing the test with its
// last answer after waitLimit.
func eventually(t *testing.T, what string, check func() error) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for {
		err := check()
		if err == nil {
			return
		}
		if t.Failed() || time.Now().After(deadline) {
			t.Fatalf("waiting for %s: %v", what, err)
		}
		time.Sleep(50 * time.Millisecond) // the polling interval
	}
}

func (a *testApp) head() int64 {
	a.t.Helper()
	head, err := a.app.store.Head(a.t.Context())
	if err != nil {
		a.t.Fatal(err)
	}
	return head
}

// command sends a command with a correlation id (none when empty).
func (a *testApp) command(method, path, token string, body any, correlationID string) answer {
	a.t.Helper()
	req, err := a.request(method, path, token, body)
	if err != nil {
		a.t.Fatal(err)
	}
	if correlationID != "" {
		req.Header.Set(api.CorrelationHeader, correlationID)
	}
	ans, err := a.send(req)
	if err != nil {
		a.t.Fatal(err)
	}
	return ans
}

// registered is a registration answered 201 and what was sent.
type registered struct {
	registrationJSON
	customer customer
}

func customersOf(regs []registered) []customer {
	out := make([]customer, 0, len(regs))
	for _, r := range regs {
		out = append(out, r.customer)
	}
	return out
}

func (a *testApp) registerCustomer(eventID uuid.UUID, c customer, correlationID string) registered {
	a.t.Helper()
	ans := a.command(http.MethodPost, participationsPath, "", c.body(eventID), correlationID)
	if ans.Status != http.StatusCreated {
		a.t.Fatalf("register %q %q → %d, want 201: %s", c.name, c.phone, ans.Status, ans.Body)
	}
	return registered{decode[registrationJSON](a.t, ans), c}
}

func (a *testApp) visit(eventID uuid.UUID, entryNumber, correlationID string) {
	a.t.Helper()
	ans := a.command(http.MethodPost, visitPath(eventID, entryNumber), token(a.t, ownerA), nil, correlationID)
	if ans.Status != http.StatusOK {
		a.t.Fatalf("visit %s → %d, want 200: %s", entryNumber, ans.Status, ans.Body)
	}
}

func (a *testApp) drawWith(owner string, eventID uuid.UUID, body map[string]any) drawJSON {
	a.t.Helper()
	ans := a.call(http.MethodPost, drawPath(eventID), token(a.t, owner), body)
	if ans.Status != http.StatusOK {
		a.t.Fatalf("draw → %d, want 200: %s", ans.Status, ans.Body)
	}
	return decode[drawJSON](a.t, ans)
}

// storedEvent is a row of the event store.
type storedEvent struct {
	StreamID      string
	StreamVersion int64
	Position      int64
	Type          string
	SchemaVersion int
	Data          []byte
}

func (a *testApp) storedEvents() map[uuid.UUID]storedEvent {
	a.t.Helper()
	rows, err := a.pool.Query(a.t.Context(), `SELECT event_id, stream_id, stream_version, position, type, schema_version, data FROM events`)
	if err != nil {
		a.t.Fatal(err)
	}
	defer rows.Close()
	out := map[uuid.UUID]storedEvent{}
	for rows.Next() {
		var id uuid.UUID
		var e storedEvent
		if err := rows.Scan(&id, &e.StreamID, &e.StreamVersion, &e.Position, &e.Type, &e.SchemaVersion, &e.Data); err != nil {
			a.t.Fatal(err)
		}
		out[id] = e
	}
	if err := rows.Err(); err != nil {
		a.t.Fatal(err)
	}
	return out
}

// registrationTimes are the stored registrations' timestamps by participant.
func (a *testApp) registrationTimes(eventID uuid.UUID) map[uuid.UUID]time.Time {
	a.t.Helper()
	out := map[uuid.UUID]time.Time{}
	for _, e := range a.storedEvents() {
		var d struct {
			ParticipantID uuid.UUID `json:"participantId"`
			EventID       uuid.UUID `json:"eventId"`
			Timestamp     time.Time `json:"timestamp"`
		}
		if e.Type == "ParticipantRegistered" && json.Unmarshal(e.Data, &d) == nil && d.EventID == eventID {
			out[d.ParticipantID] = d.Timestamp
		}
	}
	return out
}

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

// --- Server-Sent Events ---

// sseStream is an open analytics stream read in the background.
type sseStream struct {
	*sseReader
	a           *testApp
	eventID     uuid.UUID
	req         *http.Request
	resp        *http.Response
	cancel      context.CancelFunc
	correlation string
	last        analyticsView
}

// openStream opens the campaign's analytics stream as its owner; the test's
// end closes it.
func (a *testApp) openStream(eventID uuid.UUID) *sseStream {
	t := a.t
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	req, err := a.request(http.MethodGet, analyticsPath(eventID)+"/stream", token(t, ownerA), nil)
	if err != nil {
		t.Fatal(err)
	}
	req = req.WithContext(ctx)
	correlation := "sse-" + uuid.NewString()
	req.Header.Set(api.CorrelationHeader, correlation)
	resp, err := (&http.Client{Transport: a.client.Transport}).Do(req) // no client timeout: a stream lasts
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); _ = resp.Body.Close() })
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		t.Fatalf("stream: status %d, Content-Type %q; want 200 text/event-stream: %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	return &sseStream{sseReader: readSSE(resp.Body), a: a, eventID: eventID, req: req, resp: resp, cancel: cancel, correlation: correlation}
}

// figures is the next analytics event, checked against the spec.
func (s *sseStream) figures(t *testing.T) analyticsView {
	t.Helper()
	ev := s.next(t)
	if ev.name != "analytics" {
		t.Errorf("stream event name = %q, want analytics", ev.name)
	}
	s.a.checkAnalyticsJSON(s.eventID, ev.data)
	got := decode[analyticsView](t, answer{Body: []byte(ev.data)})
	if got.TotalParticipants < s.last.TotalParticipants {
		t.Errorf("stream went back from %d to %d participants", s.last.TotalParticipants, got.TotalParticipants)
	}
	s.last = got
	return got
}

// until reads figures until they show total participants, the last one
// registered on channel.
func (s *sseStream) until(t *testing.T, total int64, channel string) {
	t.Helper()
	before := s.last
	for s.last.TotalParticipants != total {
		s.figures(t)
	}
	if got, want := s.last.ByChannel[channel], before.ByChannel[channel]+1; got != want {
		t.Errorf("stream byChannel[%s] = %d, want %d (%v after %v)", channel, got, want, s.last.ByChannel, before.ByChannel)
	}
}

type sseEvent struct{ name, data string }

// sseReader parses a stream in the background: events go to a channel,
// comments (keep-alives) are dropped, and the bytes read are kept.
type sseReader struct {
	events chan sseEvent
	done   chan struct{}

	mu  sync.Mutex
	buf strings.Builder
	err error
}

func readSSE(body io.Reader) *sseReader {
	s := &sseReader{events: make(chan sseEvent, 64), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		defer close(s.events)
		r := bufio.NewReader(body)
		var ev sseEvent
		var data []string
		for {
			line, err := r.ReadString('\n')
			s.mu.Lock()
			s.buf.WriteString(line)
			s.err = err
			s.mu.Unlock()
			if err != nil {
				return
			}
			line = strings.TrimSuffix(line, "\n")
			switch {
			case line == "":
				if len(data) > 0 {
					ev.data = strings.Join(data, "\n")
					s.events <- ev
				}
				ev, data = sseEvent{}, nil
			case strings.HasPrefix(line, ":"):
			case strings.HasPrefix(line, "event:"):
				ev.name = strings.TrimSpace(strings.TrimPrefix(line, "event:"))
			case strings.HasPrefix(line, "data:"):
				data = append(data, strings.TrimPrefix(strings.TrimPrefix(line, "data:"), " "))
			}
		}
	}()
	return s
}

// next is the next event, waiting at most waitLimit.
func (s *sseReader) next(t *testing.T) sseEvent {
	t.Helper()
	select {
	case ev, ok := <-s.events:
		if !ok {
			s.mu.Lock()
			defer s.mu.Unlock()
			t.Fatalf("stream ended: %v (read %q)", s.err, s.buf.String())
		}
		return ev
	case <-time.After(waitLimit):
		t.Fatalf("no stream event within %s (read %q)", waitLimit, s.raw())
	}
	return sseEvent{}
}

func (s *sseReader) raw() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

// waitClosed waits for the reader to stop after the request was cancelled.
func (s *sseReader) waitClosed(t *testing.T) {
	t.Helper()
	go func() {
		for range s.events { // drain what came after the last event read
		}
	}()
	select {
	case <-s.done:
	case <-time.After(waitLimit):
		t.Fatalf("the stream still reads %s after the client cancelled", waitLimit)
	}
}

// --- the topic, read by an independent client ---

// topicRecord is a record as franz-go reads it, not the project's subscriber.
type topicRecord struct {
	partition int32
	offset    int64
	key       string
	value     []byte
	headers   map[string]string
}

// wholeTopic reads every record from the start of each partition to the end
// offset it has when called.
func wholeTopic(t *testing.T, brokers []string, topic string) []topicRecord {
	t.Helper()
	client, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	ctx, cancel := context.WithTimeout(t.Context(), waitLimit)
	defer cancel()
	ends := endOffsets(ctx, t, client, topic)
	next := map[int32]int64{}
	reached := func() bool {
		for p, end := range ends {
			if next[p] < end {
				return false
			}
		}
		return true
	}
	var out []topicRecord
	for !reached() {
		fetches := client.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("topic %s: read up to %v of the end offsets %v: %v", topic, next, ends, ctx.Err())
		}
		fetches.EachError(func(topic string, p int32, err error) { t.Logf("fetch %s/%d: %v", topic, p, err) })
		fetches.EachRecord(func(r *kgo.Record) {
			rec := topicRecord{partition: r.Partition, offset: r.Offset, key: string(r.Key), value: r.Value, headers: map[string]string{}}
			for _, h := range r.Headers {
				if _, dup := rec.headers[h.Key]; dup {
					t.Errorf("record %d/%d has header %s twice", r.Partition, r.Offset, h.Key)
				}
				rec.headers[h.Key] = string(h.Value)
			}
			out = append(out, rec)
			next[r.Partition] = max(next[r.Partition], r.Offset+1)
		})
	}
	return out
}

// endOffsets lists the topic's partitions and their end offsets.
func endOffsets(ctx context.Context, t *testing.T, client *kgo.Client, topic string) map[int32]int64 {
	t.Helper()
	meta := kmsg.NewPtrMetadataRequest()
	mt := kmsg.NewMetadataRequestTopic()
	mt.Topic = kmsg.StringPtr(topic)
	meta.Topics = append(meta.Topics, mt)
	metaResp, err := meta.RequestWith(ctx, client)
	if err != nil {
		t.Fatalf("topic %s metadata: %v", topic, err)
	}
	list := kmsg.NewPtrListOffsetsRequest()
	list.ReplicaID = -1
	lt := kmsg.NewListOffsetsRequestTopic()
	lt.Topic = topic
	for _, mtr := range metaResp.Topics {
		if err := kerr.ErrorForCode(mtr.ErrorCode); err != nil {
			t.Fatalf("topic %s metadata: %v", topic, err)
		}
		for _, p := range mtr.Partitions {
			lp := kmsg.NewListOffsetsRequestTopicPartition()
			lp.Partition = p.Partition
			lp.Timestamp = -1 // the end
			lt.Partitions = append(lt.Partitions, lp)
		}
	}
	if len(lt.Partitions) == 0 {
		t.Fatalf("topic %s has no partitions", topic)
	}
	list.Topics = append(list.Topics, lt)
	listResp, err := list.RequestWith(ctx, client)
	if err != nil {
		t.Fatalf("topic %s end offsets: %v", topic, err)
	}
	ends := map[int32]int64{}
	for _, lt := range listResp.Topics {
		for _, p := range lt.Partitions {
			if err := kerr.ErrorForCode(p.ErrorCode); err != nil {
				t.Fatalf("topic %s/%d end offset: %v", topic, p.Partition, err)
			}
			ends[p.Partition] = p.Offset
		}
	}
	return ends
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
