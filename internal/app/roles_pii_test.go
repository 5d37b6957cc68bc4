package app

import (
	"fmt"
	"slices"
	"testing"

	"github.com/shopevents/participation/domain"
	"github.com/shopevents/participation/internal/testenv"
)

// The projectors fold what the relay published, masked by privacy: an
// instance running only them starts without PII_KEY, next to an api+relay
// instance, and fills the participants and winners models with the masked
// values (the owner's 김** and 010-****-1234, the public list's 김*수) —
// the winners' taken from the published draw, not from the store.
func TestProjectorsRunWithoutPIIKey(t *testing.T) {
	t.Parallel()
	setup := processSetup{DatabaseURL: testenv.Database(t), Brokers: testenv.KafkaBrokers(t), Topic: testenv.Topic(t)}
	pool := openPool(t, setup.DatabaseURL)
	front := startInstance(t, "api-relay", setup, Roles{API: true, Relay: true})
	keyless := setup
	keyless.Env = []string{"PII_KEY="} // the last value of a variable wins
	startInstance(t, "projectors", keyless, Roles{Projectors: true})

	a := front.client(pool)
	owner := a.ownerView(ownerA)
	eventID := a.openCampaign(ownerA, openNow())
	byEntry := map[string]customer{}
	for i := range 6 {
		reg := a.registerCustomer(eventID, aCustomer(i), "")
		byEntry[reg.EntryNumber] = reg.customer
	}
	drawn := a.drawWith(ownerA, eventID, map[string]any{"winnerCount": 2, "alternateCount": 1})
	for _, w := range drawn.Winners {
		c := byEntry[w.EntryNumber]
		if w.Name != domain.MaskName(c.trimmedName()) || w.Phone != c.maskedPhone() {
			t.Errorf("the draw's answer names %s %q %q, want %q %q", w.EntryNumber, w.Name, w.Phone, domain.MaskName(c.trimmedName()), c.maskedPhone())
		}
	}

	waitUntil(t, "the keyless projectors' participants", func() error {
		p := readJSON[participantPage](owner, participantsPath(eventID, "size=10"))
		if len(p.Participants) != len(byEntry) {
			return fmt.Errorf("%d participants, want %d", len(p.Participants), len(byEntry))
		}
		for _, row := range p.Participants {
			c := byEntry[row.EntryNumber]
			if want := domain.MaskName(c.trimmedName()); row.Name != want || row.Phone != c.maskedPhone() {
				return fmt.Errorf("participant %s: %q %q, want %q %q", row.EntryNumber, row.Name, row.Phone, want, c.maskedPhone())
			}
		}
		return nil
	})
	type row struct{ Kind, Entry, Name, Phone, Listed string }
	var want []row
	for _, w := range drawn.Winners {
		c := byEntry[w.EntryNumber]
		want = append(want, row{"WINNER", w.EntryNumber, domain.MaskName(c.trimmedName()), c.maskedPhone(), domain.MaskListedName(c.trimmedName())})
	}
	waitUntil(t, "the keyless projectors' winners", func() error {
		rows, err := pool.Query(t.Context(), `SELECT kind, entry_number, name_masked, phone_masked, name_listed FROM winners
			WHERE event_id = $1 AND kind = 'WINNER' ORDER BY rank`, eventID)
		if err != nil {
			return err
		}
		var got []row
		for rows.Next() {
			var r row
			if err := rows.Scan(&r.Kind, &r.Entry, &r.Name, &r.Phone, &r.Listed); err != nil {
				return err
			}
			got = append(got, r)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if !slices.Equal(got, want) {
			return fmt.Errorf("winners %+v, want %+v", got, want)
		}
		return nil
	})
	list := readJSON[winnerList](owner, winnersPath(eventID))
	for _, w := range list.Winners {
		if c, ok := byEntry[w.EntryNumber]; !ok || w.Name != domain.MaskName(c.trimmedName()) || w.Phone != c.maskedPhone() {
			t.Errorf("owner's winners list: %+v", w)
		}
	}
}
