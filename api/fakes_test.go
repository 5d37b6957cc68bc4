package api_test

// These fakes stand in for the command handlers and the read models so the
// tests in this package exercise only the HTTP layer: binding, auth, error
// mapping, masking, the contract. Behaviour against real PostgreSQL is
// tested elsewhere.

import (
	"bytes"
	"context"
	"sync"
	"sync/atomic"

	"github.com/google/uuid"

	"github.com/shopevents/participation/api"
	"github.com/shopevents/participation/commands"
	"github.com/shopevents/participation/domain"
)

// fakeCommands records every command it receives and answers with the
// function set for it, or a plain success.
type fakeCommands struct {
	mu       sync.Mutex
	owners   map[uuid.UUID]string // campaigns that exist, by owner
	received []any

	openFn     func(commands.OpenCampaign) (domain.CampaignOpened, error)
	registerFn func(commands.RegisterParticipant) (commands.Registration, error)
	visitFn    func(commands.RecordStoreVisit) error
	drawFn     func(commands.DrawWinners) (commands.DrawOutcome, error)
	verifyFn   func(drawID uuid.UUID, ownerID string) (commands.DrawVerification, error)
	campaignFn func(uuid.UUID) domain.Campaign
	eraseFn    func(commands.EraseMyData) error
	claimFn    func(commands.ClaimPrize) (domain.PrizeClaimed, error)
	codeFn     func(commands.RequestVerification) (commands.VerificationSent, error)

	campaignReads atomic.Int32 // Campaign calls
}

// app puts the fake behind every route's port.
func (f *fakeCommands) app() api.App {
	return api.App{
		Customers: api.Customers{
			Campaign:            api.HandlerFunc[uuid.UUID, domain.Campaign](f.Campaign),
			Register:            api.HandlerFunc[commands.RegisterParticipant, commands.Registration](f.RegisterParticipant),
			RequestVerification: api.HandlerFunc[commands.RequestVerification, commands.VerificationSent](f.RequestVerification),
			EraseMyData:         api.ActionFunc[commands.EraseMyData](f.EraseMyData),
			CheckResult:         api.HandlerFunc[commands.CheckResult, domain.ResultCheck](f.CheckResult),
			ClaimPrize:          api.HandlerFunc[commands.ClaimPrize, domain.PrizeClaimed](f.ClaimPrize),
		},
		Owners: api.Owners{
			Authorize:        api.ActionFunc[commands.AuthorizeOwner](f.AuthorizeOwner),
			Campaign:         api.HandlerFunc[uuid.UUID, domain.Campaign](f.Campaign),
			OpenCampaign:     api.HandlerFunc[commands.OpenCampaign, domain.CampaignOpened](f.OpenCampaign),
			RecordStoreVisit: api.ActionFunc[commands.RecordStoreVisit](f.RecordStoreVisit),
			DrawWinners:      api.HandlerFunc[commands.DrawWinners, commands.DrawOutcome](f.DrawWinners),
			VerifyDraw:       api.HandlerFunc[commands.VerifyDraw, commands.DrawVerification](f.VerifyDraw),
			EraseParticipant: api.ActionFunc[commands.EraseParticipant](f.EraseParticipant),
			RevealWinnerContact: api.HandlerFunc[commands.RevealWinnerContact, domain.PersonalData](
				f.RevealWinnerContact),
			RevealDelivery: api.HandlerFunc[commands.RevealDelivery, commands.DeliveryReveal](f.RevealDelivery),
			ReplaceWinner:  api.HandlerFunc[commands.ReplaceWinner, commands.Replacement](f.ReplaceWinner),
			ContactReveals: api.HandlerFunc[commands.ContactReveals, []commands.ContactReveal](f.ContactReveals),
		},
	}
}

func (f *fakeCommands) record(cmd any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.received = append(f.received, cmd)
}

// commandsReceived returns the commands the fake was given, in order.
func (f *fakeCommands) commandsReceived() []any {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]any(nil), f.received...)
}

func (f *fakeCommands) OpenCampaign(_ context.Context, cmd commands.OpenCampaign) (domain.CampaignOpened, error) {
	f.record(cmd)
	if f.openFn != nil {
		return f.openFn(cmd)
	}
	id := cmd.EventID
	if id == uuid.Nil {
		id = uuid.New()
	}
	return domain.CampaignOpened{EventID: id, OwnerID: cmd.OwnerID, Title: cmd.Title,
		StartsAt: cmd.StartsAt, EndsAt: cmd.EndsAt, AnnounceAt: cmd.AnnounceAt}, nil
}

func (f *fakeCommands) RegisterParticipant(_ context.Context, cmd commands.RegisterParticipant) (commands.Registration, error) {
	f.record(cmd)
	if f.registerFn != nil {
		return f.registerFn(cmd)
	}
	return commands.Registration{ParticipantID: uuid.New(), EntryNumber: "ABCD-2345", AnnounceAt: fixedNow.Add(72 * 3600e9)}, nil
}

func (f *fakeCommands) RecordStoreVisit(_ context.Context, cmd commands.RecordStoreVisit) error {
	f.record(cmd)
	if f.visitFn != nil {
		return f.visitFn(cmd)
	}
	return nil
}

func (f *fakeCommands) DrawWinners(_ context.Context, cmd commands.DrawWinners) (commands.DrawOutcome, error) {
	f.record(cmd)
	if f.drawFn != nil {
		return f.drawFn(cmd)
	}
	return commands.DrawOutcome{DrawID: uuid.New()}, nil
}

func (f *fakeCommands) VerifyDraw(_ context.Context, q commands.VerifyDraw) (commands.DrawVerification, error) {
	if f.verifyFn != nil {
		return f.verifyFn(q.DrawID, q.OwnerID)
	}
	return commands.DrawVerification{}, commands.ErrDrawNotFound
}

func (f *fakeCommands) CampaignOwner(_ context.Context, eventID uuid.UUID) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	owner, ok := f.owners[eventID]
	if !ok {
		return "", domain.ErrCampaignNotFound
	}
	return owner, nil
}

func (f *fakeCommands) AuthorizeOwner(ctx context.Context, q commands.AuthorizeOwner) error {
	owner, err := f.CampaignOwner(ctx, q.EventID)
	if err == nil && owner != q.OwnerID {
		err = domain.ErrNotOwner
	}
	return err
}

func (f *fakeCommands) Campaign(ctx context.Context, eventID uuid.UUID) (domain.Campaign, error) {
	f.campaignReads.Add(1)
	owner, err := f.CampaignOwner(ctx, eventID)
	if err != nil {
		return domain.Campaign{}, err
	}
	if f.campaignFn != nil {
		return f.campaignFn(eventID), nil
	}
	return domain.Campaign{ID: eventID, OwnerID: owner, Title: "fake"}, nil
}

// fakeQueries answers reads from fixed rows and records the filters it got.
type fakeQueries struct {
	mu           sync.Mutex
	participants []api.ParticipantRow
	total        int64
	filters      []api.ParticipantFilter
	winners      []api.WinnerRow
	drawLogs     map[uuid.UUID]api.DrawLog
	analytics    api.Analytics
	err          error // returned by every read when set
	changes      chan struct{}
	// endless, when set, makes EachParticipant produce rows until fn
	// fails, then send that error here.
	endless chan error
}

var _ api.Queries = (*fakeQueries)(nil)

func (f *fakeQueries) Participants(_ context.Context, _ uuid.UUID, filter api.ParticipantFilter) (api.ParticipantPage, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.filters = append(f.filters, filter)
	return api.ParticipantPage{Items: f.participants, TotalCount: f.total}, f.err
}

func (f *fakeQueries) EachParticipant(_ context.Context, _ uuid.UUID, fn func(api.ParticipantRow) error) error {
	if f.err != nil {
		return f.err
	}
	if f.endless != nil {
		row := api.ParticipantRow{EntryNumber: "ABCD-2345", Name: "김**", Phone: "010-****-5678", EntryPath: "KAKAO"}
		for {
			if err := fn(row); err != nil {
				f.endless <- err
				return err
			}
		}
	}
	for _, p := range f.participants {
		if err := fn(p); err != nil {
			return err
		}
	}
	return nil
}

func (f *fakeQueries) Winners(context.Context, uuid.UUID) ([]api.WinnerRow, error) {
	return f.winners, f.err
}

func (f *fakeQueries) DrawLogs(_ context.Context, eventID uuid.UUID) ([]api.DrawLog, error) {
	var out []api.DrawLog
	for _, d := range f.drawLogs {
		if d.EventID == eventID {
			out = append(out, d)
		}
	}
	return out, f.err
}

func (f *fakeQueries) DrawLog(_ context.Context, id uuid.UUID) (api.DrawLog, bool, error) {
	d, ok := f.drawLogs[id]
	return d, ok, f.err
}

func (f *fakeQueries) Analytics(context.Context, uuid.UUID) (api.Analytics, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.analytics, f.err
}

func (f *fakeQueries) setAnalytics(a api.Analytics) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.analytics = a
}

func (f *fakeQueries) SubscribeAnalytics(context.Context, uuid.UUID) (<-chan struct{}, func()) {
	return f.changes, func() {}
}

// fakeReadiness reports the error it holds.
type fakeReadiness struct{ err error }

func (f fakeReadiness) Ready(context.Context) (map[string]string, error) { return nil, f.err }

// syncBuffer collects log output written from handler goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (f *fakeCommands) CheckResult(context.Context, commands.CheckResult) (domain.ResultCheck, error) {
	return domain.ResultCheck{}, domain.ErrNotAnnounced
}

func (f *fakeCommands) ClaimPrize(_ context.Context, cmd commands.ClaimPrize) (domain.PrizeClaimed, error) {
	f.record(cmd)
	if f.claimFn != nil {
		return f.claimFn(cmd)
	}
	return domain.PrizeClaimed{}, domain.ErrNotAnnounced
}

func (f *fakeCommands) EraseMyData(_ context.Context, cmd commands.EraseMyData) error {
	f.record(cmd)
	if f.eraseFn != nil {
		return f.eraseFn(cmd)
	}
	return nil
}

func (f *fakeCommands) EraseParticipant(_ context.Context, cmd commands.EraseParticipant) error {
	f.record(cmd)
	return nil
}

func (f *fakeCommands) RevealWinnerContact(_ context.Context, cmd commands.RevealWinnerContact) (domain.PersonalData, error) {
	f.record(cmd)
	return domain.PersonalData{}, domain.ErrNotWinner
}

func (f *fakeCommands) RevealDelivery(_ context.Context, cmd commands.RevealDelivery) (commands.DeliveryReveal, error) {
	f.record(cmd)
	return commands.DeliveryReveal{}, domain.ErrNotWinner
}

func (f *fakeCommands) ReplaceWinner(_ context.Context, cmd commands.ReplaceWinner) (commands.Replacement, error) {
	f.record(cmd)
	return commands.Replacement{}, domain.ErrNotWinner
}

func (f *fakeCommands) ContactReveals(context.Context, commands.ContactReveals) ([]commands.ContactReveal, error) {
	return nil, nil
}

func (f *fakeCommands) RequestVerification(_ context.Context, cmd commands.RequestVerification) (commands.VerificationSent, error) {
	f.record(cmd)
	if f.codeFn != nil {
		return f.codeFn(cmd)
	}
	return commands.VerificationSent{}, domain.ErrVerificationOff
}
