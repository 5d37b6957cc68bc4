package domain

import (
	"encoding/json"
	"fmt"
	"time"
)

// publicRegistered is ParticipantRegistered as it may leave the event store
// (the Kafka topic): name and phone masked, always present, never pii.
type publicRegistered struct {
	ParticipantID  string    `json:"participantId"`
	EventID        string    `json:"eventId"`
	EntryNumber    string    `json:"entryNumber"`
	Name           string    `json:"name"`
	Phone          string    `json:"phone"`
	EntryPath      EntryPath `json:"entryPath"`
	PrivacyConsent bool      `json:"privacyConsent"`
	Timestamp      time.Time `json:"timestamp"`
}

// PublicRegistered is the registration's public JSON: pd masked, as every
// reader downstream shows it. An erased participant's pd is empty, and so
// are its masked values.
func PublicRegistered(e ParticipantRegistered, pd PersonalData) ([]byte, error) {
	out, err := json.Marshal(publicRegistered{
		ParticipantID: e.ParticipantID.String(), EventID: e.EventID.String(), EntryNumber: e.EntryNumber,
		Name: MaskName(pd.Name), Phone: MaskPhone(pd.Phone), EntryPath: e.EntryPath,
		PrivacyConsent: e.PrivacyConsent, Timestamp: e.Timestamp,
	})
	if err != nil {
		return nil, fmt.Errorf("public payload: %w", err)
	}
	return out, nil
}
