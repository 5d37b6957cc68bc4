package main

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
)

// The soak's end: every read model of a campaign against the event store.

// storeRegistrations is the campaign's entry numbers as the event store has them.
func (e *env) storeRegistrations(eventID uuid.UUID) (map[string]bool, error) {
	rows, err := e.app.Query(e.ctx, `SELECT data->>'entryNumber' FROM events
		WHERE type = 'ParticipantRegistered' AND data->>'eventId' = $1`, eventID.String())
	if err != nil {
		return nil, fmt.Errorf("read the store: %w", err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		out[n] = true
	}
	return out, rows.Err()
}

// soakChecks compares each read model of one campaign with the store.
func (e *env) soakChecks(id uuid.UUID) []soakCheck {
	var out []soakCheck
	want, err := e.storeRegistrations(id)
	if err != nil {
		return []soakCheck{{Campaign: id, ReadModel: "store", Note: err.Error()}}
	}
	n := int64(len(want))
	count := func(model string, got int64, note string) {
		out = append(out, soakCheck{Campaign: id, ReadModel: model, Store: n, Read: got, OK: got == n && note == "", Note: note})
	}

	// participants: every entry number, through the CSV.
	got, err := e.csvEntryNumbers(id)
	c := soakCheck{Campaign: id, ReadModel: "participants (CSV, entry numbers)", Store: n, Read: int64(len(got))}
	if err != nil {
		c.Note = err.Error()
	}
	var missing []string
	for k := range want {
		if !got[k] {
			c.Missing++
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 && c.Note == "" {
		c.Note = e.whereInStore(id, missing)
	}
	for k := range got {
		if !want[k] {
			c.Extra++
		}
	}
	c.OK = err == nil && c.Missing == 0 && c.Extra == 0
	out = append(out, c)
	total, _, err := e.participantsTotal(id)
	count("participants (totalCount)", total, errText(err))

	// analytics: the total, and the channels and hours adding up to it.
	var a struct {
		Total     int64            `json:"totalParticipants"`
		ByChannel map[string]int64 `json:"byChannel"`
		ByHour    []struct {
			Count int64 `json:"count"`
		} `json:"byHour"`
	}
	err = e.getJSON(fmt.Sprintf("/api/v1/events/%s/analytics", id), &a)
	count("analytics (totalParticipants)", a.Total, errText(err))
	var sum int64
	for _, v := range a.ByChannel {
		sum += v
	}
	count("analytics (sum of byChannel)", sum, errText(err))
	sum = 0
	for _, h := range a.ByHour {
		sum += h.Count
	}
	count("analytics (sum of byHour)", sum, errText(err))

	// winners and draw log: a draw of 10, then the read models against its answer.
	status, body, err := e.call(e.ctx, ownerClient, http.MethodPost, fmt.Sprintf("/api/v1/events/%s/draw-winners", id),
		map[string]any{"winnerCount": 10}, true)
	var draw struct {
		DrawLogID uuid.UUID `json:"drawLogId"`
		Winners   []struct {
			EntryNumber string `json:"entryNumber"`
		} `json:"winners"`
	}
	if err != nil || status != http.StatusOK || json.Unmarshal(body, &draw) != nil {
		out = append(out, soakCheck{Campaign: id, ReadModel: "draw", Note: fmt.Sprintf("draw: %d %v %.200s", status, err, body)})
		return out
	}
	drawn := map[string]bool{}
	for _, w := range draw.Winners {
		drawn[w.EntryNumber] = true
	}
	var winners struct {
		Winners []struct {
			EntryNumber string `json:"entryNumber"`
		} `json:"winners"`
	}
	var logs struct {
		DrawLogs []struct {
			DrawLogID      uuid.UUID `json:"drawLogId"`
			CandidateCount int64     `json:"candidateCount"`
		} `json:"drawLogs"`
	}
	deadline := time.Now().Add(30 * time.Second)
	for { // the read side catches up with the draw
		err = e.getJSON(fmt.Sprintf("/api/v1/events/%s/winners", id), &winners)
		err2 := e.getJSON(fmt.Sprintf("/api/v1/events/%s/draw-logs", id), &logs)
		if (err == nil && err2 == nil && len(winners.Winners) == len(drawn) && len(logs.DrawLogs) == 1) || time.Now().After(deadline) {
			if err == nil {
				err = err2
			}
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	w := soakCheck{Campaign: id, ReadModel: "winners (entry numbers of the draw's answer)", Store: int64(len(drawn)), Read: int64(len(winners.Winners)), Note: errText(err)}
	for _, x := range winners.Winners {
		if !drawn[x.EntryNumber] {
			w.Extra++
		}
		if !want[x.EntryNumber] {
			w.Note = "a winner that is not a registration in the store"
		}
	}
	w.OK = err == nil && w.Extra == 0 && w.Read == w.Store && w.Note == ""
	out = append(out, w)
	var cand int64 = -1
	if len(logs.DrawLogs) == 1 && logs.DrawLogs[0].DrawLogID == draw.DrawLogID {
		cand = logs.DrawLogs[0].CandidateCount
	}
	count("draw log (candidateCount)", cand, errText(err))
	return out
}

// whereInStore names the store positions and transactions of registrations
// a read model misses, for whoever looks into it.
func (e *env) whereInStore(id uuid.UUID, entryNumbers []string) string {
	rows, err := e.app.Query(e.ctx, `SELECT position, tx_id::text FROM events
		WHERE type = 'ParticipantRegistered' AND data->>'eventId' = $1 AND data->>'entryNumber' = ANY($2)
		ORDER BY position LIMIT 20`, id.String(), entryNumbers)
	if err != nil {
		return err.Error()
	}
	defer rows.Close()
	var parts []string
	for rows.Next() {
		var pos int64
		var tx string
		if rows.Scan(&pos, &tx) == nil {
			parts = append(parts, fmt.Sprintf("%d (tx %s)", pos, tx))
		}
	}
	return "missing at store positions " + strings.Join(parts, ", ")
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func (e *env) getJSON(path string, dst any) error {
	status, body, err := e.call(e.ctx, ownerClient, http.MethodGet, path, nil, true)
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return fmt.Errorf("GET %s: %d %.200s", path, status, body)
	}
	return json.Unmarshal(body, dst)
}

// csvEntryNumbers reads the campaign's CSV export and returns its entry numbers.
func (e *env) csvEntryNumbers(id uuid.UUID) (map[string]bool, error) {
	req, err := http.NewRequestWithContext(e.ctx, http.MethodGet, fmt.Sprintf("%s/api/v1/events/%s/participants.csv", e.svc.base, id), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+e.token)
	resp, err := ownerClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return nil, fmt.Errorf("CSV: %d %.200s", resp.StatusCode, b)
	}
	br := bufio.NewReader(resp.Body)
	if bom, _ := br.Peek(3); bytes.Equal(bom, []byte("\uFEFF")) {
		_, _ = br.Discard(3)
	}
	rd := csv.NewReader(br)
	header, err := rd.Read()
	if err != nil {
		return nil, fmt.Errorf("CSV header: %w", err)
	}
	col := slices.Index(header, "entryNumber")
	if col < 0 {
		return nil, fmt.Errorf("CSV header has no entryNumber: %v", header)
	}
	out := map[string]bool{}
	for {
		rec, err := rd.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, fmt.Errorf("CSV: %w", err)
		}
		out[rec[col]] = true
	}
}
