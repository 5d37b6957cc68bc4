package domain

import (
	"encoding/json"
	"fmt"
)

// PublicPayload is an event's JSON as it may leave the event store (the
// Kafka topic): personal data masked, as every reader downstream shows it.
// The store keeps the raw values, so a draw can still be verified.
func PublicPayload(eventType string, data []byte) ([]byte, error) {
	if eventType != TypeParticipantRegistered {
		return data, nil
	}
	var e ParticipantRegistered
	if err := json.Unmarshal(data, &e); err != nil {
		return nil, fmt.Errorf("public payload: %w", err)
	}
	e.Name, e.Phone = MaskName(e.Name), MaskPhone(e.Phone)
	return json.Marshal(e)
}
