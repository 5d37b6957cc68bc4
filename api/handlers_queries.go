package api

import (
	"bufio"
	"cmp"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/shopevents/participation/commands"
	"github.com/shopevents/participation/domain"
)

// seoul is Asia/Seoul without a tz database: Korea keeps no daylight saving.
var seoul = time.FixedZone("KST", 9*60*60)

const (
	defaultPageSize = 20
	maxPageSize     = 100
	maxPage         = 1_000_000 // 100 million participants at the largest page size
)

// ownedEvent runs the checks every owner read shares, in the order the
// contract wants them: path, campaign and owner, then the read side.
func (s *server) ownedEvent(c *gin.Context) (uuid.UUID, bool) {
	eventID, ok := s.eventParam(c)
	if !ok || !s.authorizeCampaign(c, eventID) {
		return uuid.Nil, false
	}
	if s.queries == nil {
		s.writeError(c, errUnavailable)
		return uuid.Nil, false
	}
	return eventID, true
}

type participantJSON struct {
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

type participantPageJSON struct {
	Participants []participantJSON `json:"participants"`
	TotalCount   int64             `json:"totalCount"`
	Page         int               `json:"page"`
	Size         int               `json:"size"`
}

func (s *server) listParticipants(c *gin.Context) {
	eventID, ok := s.ownedEvent(c)
	if !ok {
		return
	}
	filter, err := participantFilter(c)
	if err != nil {
		s.writeError(c, err)
		return
	}
	page, err := s.queries.Participants(c.Request.Context(), eventID, filter)
	if err != nil {
		s.writeError(c, err)
		return
	}
	resp := participantPageJSON{
		Participants: make([]participantJSON, 0, len(page.Items)),
		TotalCount:   page.TotalCount,
		Page:         filter.Page,
		Size:         filter.Size,
	}
	for _, p := range page.Items {
		resp.Participants = append(resp.Participants, participantJSON{
			ParticipantID:  p.ParticipantID,
			EntryNumber:    p.EntryNumber,
			Name:           p.Name,
			Phone:          p.Phone,
			EntryPath:      p.EntryPath,
			ParticipatedAt: p.ParticipatedAt,
			StoreVisited:   p.StoreVisited,
			Winner:         p.Winner,
			Erased:         p.Erased,
		})
	}
	c.JSON(http.StatusOK, resp)
}

func participantFilter(c *gin.Context) (ParticipantFilter, error) {
	var fe fieldErrors
	f := ParticipantFilter{Page: 1, Size: defaultPageSize}
	if v, ok := c.GetQuery("page"); ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxPage {
			fe.add("page", fmt.Sprintf("Must be an integer from 1 to %d.", maxPage))
		}
		f.Page = n
	}
	if v, ok := c.GetQuery("size"); ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxPageSize {
			fe.add("size", fmt.Sprintf("Must be an integer from 1 to %d.", maxPageSize))
		}
		f.Size = n
	}
	if v := c.Query("entryPath"); v != "" {
		p, err := domain.ParseEntryPath(v)
		if err != nil {
			fe.add("entryPath", "Must be one of the entry paths, e.g. INSTAGRAM.")
		}
		f.EntryPath = string(p)
	}
	if v := c.Query("winner"); v != "" {
		if v != "true" && v != "false" {
			fe.add("winner", "Must be true or false.")
		}
		b := v == "true"
		f.Winner = &b
	}
	return f, fe.err()
}

// csvHeader is the CSV's one header row, in the contract's order.
var csvHeader = []string{"entryNumber", "name", "phone", "entryPath", "participatedAt", "storeVisited", "winner", "erased"}

func (s *server) exportParticipants(c *gin.Context) {
	eventID, ok := s.ownedEvent(c)
	if !ok {
		return
	}
	c.Header("Content-Type", "text/csv; charset=utf-8")
	c.Header("Content-Disposition", fmt.Sprintf(`attachment; filename="participants-%s.csv"`, eventID))
	// Rows stay in this buffer until it fills, so a failure before the first
	// flush still gets a clean JSON 500 instead of a cut-off file.
	stream := s.startStream(c)
	buf := bufio.NewWriterSize(deadlineWriter{c.Writer, stream}, 64<<10)
	w := csv.NewWriter(buf)
	_, _ = buf.WriteString("\uFEFF") // Excel needs the BOM to read UTF-8
	_ = w.Write(csvHeader)
	err := s.queries.EachParticipant(c.Request.Context(), eventID, func(p ParticipantRow) error {
		return w.Write([]string{
			p.EntryNumber,
			csvSafe(p.Name),
			csvSafe(p.Phone),
			p.EntryPath,
			p.ParticipatedAt.In(seoul).Format(time.RFC3339),
			strconv.FormatBool(p.StoreVisited),
			strconv.FormatBool(p.Winner),
			strconv.FormatBool(p.Erased),
		})
	})
	if err == nil {
		w.Flush()
		if err = w.Error(); err == nil {
			err = buf.Flush()
		}
	}
	s.endStream(c, err, "csv export cut off")
}

// deadlineWriter arms a fresh write deadline before each chunk it passes on.
type deadlineWriter struct {
	w      io.Writer
	stream streamWriter
}

func (d deadlineWriter) Write(p []byte) (int, error) {
	d.stream.arm()
	return d.w.Write(p)
}

// csvSafe keeps a spreadsheet from reading a cell as a formula.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

type winnerListJSON struct {
	EventID    uuid.UUID          `json:"eventId"`
	Winners    []listedWinnerJSON `json:"winners"`
	Alternates []winnerJSON       `json:"alternates"` // in order: the first takes a winner's place first
}

// listedWinnerJSON is a winner of the owner's list: the drawn fields and
// the claim.
type listedWinnerJSON struct {
	winnerJSON
	Claim claimStateJSON `json:"claim"`
	// Erased: the winner's data was erased (DESIGN: an erased winner shows 삭제됨).
	Erased bool `json:"erased,omitempty"`
	// Notification is the winner's latest message, once one is due.
	Notification *notificationJSON `json:"notification,omitempty"`
}

type claimStateJSON struct {
	State     string     `json:"state"` // OPEN, CLAIMED or CLOSED
	ClaimedAt *time.Time `json:"claimedAt,omitempty"`
	Deadline  time.Time  `json:"deadline"`
}

func (s *server) listWinners(c *gin.Context) {
	eventID, ok := s.ownedEvent(c)
	if !ok {
		return
	}
	rows, err := s.queries.Winners(c.Request.Context(), eventID)
	if err != nil {
		s.writeError(c, err)
		return
	}
	var notified map[string]NotificationStatus
	if s.cfg.Notifications != nil && len(rows) > 0 {
		if notified, err = s.cfg.Notifications.Statuses(c.Request.Context(), eventID); err != nil {
			s.writeError(c, err)
			return
		}
	}
	var deadline time.Time // the campaign's, for rows the campaigns read model does not have yet
	now := s.cfg.Now()
	resp := winnerListJSON{EventID: eventID, Winners: make([]listedWinnerJSON, 0, len(rows)), Alternates: []winnerJSON{}}
	for _, w := range rows {
		row := winnerJSON{ParticipantID: w.ParticipantID, EntryNumber: w.EntryNumber,
			Name: w.Name, Phone: w.Phone, Rank: w.Rank} // masked by the read model
		if w.Kind == AlternateKind {
			row.PromotedRank = w.PromotedRank
			resp.Alternates = append(resp.Alternates, row)
			if w.PromotedRank == 0 {
				continue
			}
			// a promoted alternate is also the winner of the rank it took
			row = winnerJSON{ParticipantID: w.ParticipantID, EntryNumber: w.EntryNumber, Name: w.Name, Phone: w.Phone,
				Rank: w.PromotedRank, AlternateRank: w.Rank}
		}
		row.State = resultStateWinner
		if w.ReplacedReason != "" {
			row.State, row.Reason = resultStateReplaced, w.ReplacedReason
		}
		if w.ClaimDeadline.IsZero() && deadline.IsZero() {
			if s.owner.Campaign == nil {
				s.writeError(c, errUnavailable)
				return
			}
			campaign, err := s.owner.Campaign.Handle(c.Request.Context(), eventID)
			if err != nil {
				s.writeError(c, err)
				return
			}
			deadline = campaign.ClaimDeadline.UTC()
		}
		// the row's deadline: a promoted alternate's own, else the campaign's
		claim := claimStateJSON{Deadline: w.ClaimDeadline}
		if claim.Deadline.IsZero() {
			claim.Deadline = deadline
		}
		claim.State = domain.ClaimState(w.ClaimedAt, claim.Deadline, now)
		if !w.ClaimedAt.IsZero() {
			claim.ClaimedAt = &w.ClaimedAt
		}
		listed := listedWinnerJSON{winnerJSON: row, Claim: claim, Erased: w.Erased}
		if st, ok := notified[w.EntryNumber]; ok {
			listed.Notification = notificationOf(st)
		}
		resp.Winners = append(resp.Winners, listed)
	}
	// by rank, each rank's replaced holders first (in the order replaced)
	slices.SortStableFunc(resp.Winners, func(a, b listedWinnerJSON) int {
		if a.Rank != b.Rank {
			return cmp.Compare(a.Rank, b.Rank)
		}
		return cmp.Compare(replacedOrder(a.winnerJSON, rows), replacedOrder(b.winnerJSON, rows))
	})
	c.JSON(http.StatusOK, resp)
}

// replacedOrder sorts a rank's holders: the replaced ones by when, the
// holder now last.
func replacedOrder(w winnerJSON, rows []WinnerRow) int64 {
	if w.State != resultStateReplaced {
		return 1<<63 - 1
	}
	for _, r := range rows {
		if r.ParticipantID == w.ParticipantID {
			return r.ReplacedAt.UnixNano()
		}
	}
	return 0
}

type drawnEntryJSON struct {
	ParticipantID uuid.UUID `json:"participantId"`
	EntryNumber   string    `json:"entryNumber"`
	Rank          int       `json:"rank"`
}

func drawnEntries(ws []domain.Winner) []drawnEntryJSON {
	out := make([]drawnEntryJSON, 0, len(ws))
	for _, w := range ws {
		out = append(out, drawnEntryJSON{ParticipantID: w.ParticipantID, EntryNumber: w.EntryNumber, Rank: w.Rank})
	}
	return out
}

// drawLogJSON is the draw's events under their names, plus drawLogId (=
// drawId) and state: a v2 draw's DrawCommitted fields and, once DRAWN, its
// WinnersDrawn fields; a v1 draw's WinnersDrawn with its digest.
type drawLogJSON struct {
	DrawLogID        uuid.UUID              `json:"drawLogId"`
	DrawID           uuid.UUID              `json:"drawId"`
	EventID          uuid.UUID              `json:"eventId"`
	State            string                 `json:"state"`
	WinnerCount      int                    `json:"winnerCount"`
	AlternateCount   int                    `json:"alternateCount"`
	VisitBonus       bool                   `json:"visitBonus"`
	VisitBonusWeight int                    `json:"visitBonusWeight"`
	Algorithm        string                 `json:"algorithm"`
	Seed             string                 `json:"seed,omitempty"`
	Beacon           *domain.DrawBeacon     `json:"beacon,omitempty"`
	CandidateCount   int                    `json:"candidateCount"`
	CandidatesDigest string                 `json:"candidatesDigest,omitempty"`
	CandidatesRoot   string                 `json:"candidatesRoot,omitempty"`
	Randomness       *domain.DrawRandomness `json:"randomness,omitempty"`
	CutoffPosition   int64                  `json:"cutoffPosition"`
	Winners          []drawnEntryJSON       `json:"winners"`
	Alternates       []drawnEntryJSON       `json:"alternates"`
	CommittedAt      *time.Time             `json:"committedAt,omitempty"`
	CommittedBy      string                 `json:"committedBy,omitempty"`
	DrawnAt          *time.Time             `json:"drawnAt,omitempty"`
	DrawnBy          string                 `json:"drawnBy,omitempty"`
}

func drawLogOf(d DrawLog) drawLogJSON {
	out := drawLogJSON{
		DrawLogID:        d.DrawID,
		DrawID:           d.DrawID,
		EventID:          d.EventID,
		State:            d.State,
		WinnerCount:      d.WinnerCount,
		AlternateCount:   d.AlternateCount,
		VisitBonus:       d.VisitBonus,
		VisitBonusWeight: d.VisitBonusWeight,
		Algorithm:        d.Algorithm,
		Seed:             d.Seed,
		Beacon:           d.Beacon,
		CandidateCount:   d.CandidateCount,
		CandidatesDigest: d.CandidatesDigest,
		CandidatesRoot:   d.CandidatesRoot,
		Randomness:       d.Randomness,
		CutoffPosition:   d.CutoffPosition,
		Winners:          drawnEntries(d.Winners),
		Alternates:       drawnEntries(d.Alternates),
		CommittedAt:      d.CommittedAt,
		CommittedBy:      d.CommittedBy,
		DrawnBy:          d.DrawnBy,
	}
	if !d.DrawnAt.IsZero() {
		out.DrawnAt = &d.DrawnAt
	}
	return out
}

type drawLogListJSON struct {
	EventID  uuid.UUID     `json:"eventId"`
	DrawLogs []drawLogJSON `json:"drawLogs"`
}

func (s *server) listDrawLogs(c *gin.Context) {
	eventID, ok := s.ownedEvent(c)
	if !ok {
		return
	}
	logs, err := s.queries.DrawLogs(c.Request.Context(), eventID)
	if err != nil {
		s.writeError(c, err)
		return
	}
	resp := drawLogListJSON{EventID: eventID, DrawLogs: make([]drawLogJSON, 0, len(logs))}
	for _, d := range logs {
		resp.DrawLogs = append(resp.DrawLogs, drawLogOf(d))
	}
	c.JSON(http.StatusOK, resp)
}

// ownedDrawLog finds a draw log of the caller's. A draw log of another
// owner's campaign answers 404, exactly as an unknown one: these routes name
// no campaign, so a 403 would tell a stranger that the draw exists.
func (s *server) ownedDrawLog(c *gin.Context) (DrawLog, bool) {
	id, err := parseUUID(c.Param("drawLogId"))
	if err != nil {
		s.writeError(c, invalidField("drawLogId", "Must be a UUID."))
		return DrawLog{}, false
	}
	if s.queries == nil || s.owner.Authorize == nil {
		s.writeError(c, errUnavailable)
		return DrawLog{}, false
	}
	d, found, err := s.queries.DrawLog(c.Request.Context(), id)
	if err == nil && found {
		err = s.owner.Authorize.Handle(c.Request.Context(), commands.AuthorizeOwner{EventID: d.EventID, OwnerID: ownerOf(c)})
		found = err == nil
		if errors.Is(err, domain.ErrCampaignNotFound) || errors.Is(err, domain.ErrNotOwner) {
			err = nil
		}
	}
	switch {
	case err != nil:
		s.writeError(c, err)
		return DrawLog{}, false
	case !found:
		s.writeError(c, errDrawLogNotFound)
		return DrawLog{}, false
	}
	return d, true
}

func (s *server) drawLog(c *gin.Context) {
	d, ok := s.ownedDrawLog(c)
	if !ok {
		return
	}
	c.JSON(http.StatusOK, drawLogOf(d))
}

// verificationJSON is the recorded draw's figures, what recomputing it gave,
// and which fields differ.
type verificationJSON struct {
	Verified         bool             `json:"verified"`
	DrawLogID        uuid.UUID        `json:"drawLogId"`
	EventID          uuid.UUID        `json:"eventId"`
	Mismatches       []string         `json:"mismatches"`
	Algorithm        string           `json:"algorithm"`
	CandidateCount   int              `json:"candidateCount"`
	CandidatesDigest string           `json:"candidatesDigest,omitempty"` // v1
	CandidatesRoot   string           `json:"candidatesRoot,omitempty"`   // v2
	Winners          []drawnEntryJSON `json:"winners"`
	Alternates       []drawnEntryJSON `json:"alternates"`
	Recomputed       recomputedJSON   `json:"recomputed"`
}

type recomputedJSON struct {
	Algorithm        string           `json:"algorithm"`
	CandidateCount   int              `json:"candidateCount"`
	CandidatesDigest string           `json:"candidatesDigest,omitempty"`
	CandidatesRoot   string           `json:"candidatesRoot,omitempty"`
	Winners          []drawnEntryJSON `json:"winners"`
	Alternates       []drawnEntryJSON `json:"alternates"`
}

func (s *server) verifyDraw(c *gin.Context) {
	id, err := parseUUID(c.Param("drawLogId"))
	if err != nil {
		s.writeError(c, invalidField("drawLogId", "Must be a UUID."))
		return
	}
	if s.owner.VerifyDraw == nil {
		s.writeError(c, errUnavailable)
		return
	}
	v, err := s.owner.VerifyDraw.Handle(c.Request.Context(), commands.VerifyDraw{DrawID: id, OwnerID: ownerOf(c)})
	if errors.Is(err, domain.ErrNotOwner) {
		err = errDrawLogNotFound // as for an unknown draw: see ownedDrawLog
	}
	if err != nil {
		s.writeError(c, err)
		return
	}
	d, r := v.Draw, v.Result.Recomputed
	var root string
	if v.Commit != nil {
		root = v.Commit.CandidatesRoot
	}
	c.JSON(http.StatusOK, verificationJSON{
		Verified:         v.Result.Verified,
		DrawLogID:        d.DrawID,
		EventID:          d.EventID,
		Mismatches:       append(make([]string, 0, len(v.Result.Mismatches)), v.Result.Mismatches...),
		Algorithm:        d.Algorithm,
		CandidateCount:   d.CandidateCount,
		CandidatesDigest: d.CandidatesDigest,
		CandidatesRoot:   root,
		Winners:          drawnEntries(d.Winners),
		Alternates:       drawnEntries(d.Alternates),
		Recomputed: recomputedJSON{
			Algorithm:        r.Algorithm,
			CandidateCount:   r.CandidateCount,
			CandidatesDigest: r.CandidatesDigest,
			CandidatesRoot:   r.CandidatesRoot,
			Winners:          drawnEntries(r.Winners),
			Alternates:       drawnEntries(r.Alternates),
		},
	})
}

// endStream ends a streamed download (CSV, draw leaves) after its writer
// returned err: nothing on success; before the first byte the error's own
// answer; mid-stream the status is gone, so the connection is dropped to
// keep a partial file from looking complete.
func (s *server) endStream(c *gin.Context, err error, what string) {
	if err == nil {
		return
	}
	if !c.Writer.Written() {
		c.Header("Content-Type", "")
		c.Header("Content-Disposition", "")
		s.writeError(c, err)
		return
	}
	s.logger.LogAttrs(c.Request.Context(), slog.LevelError, what,
		slog.String("correlation_id", correlationID(c)), slog.String("error", err.Error()))
	panic(http.ErrAbortHandler)
}
