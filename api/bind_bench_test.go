package api

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"reflect"
	"testing"
	"time"
)

var benchBody = []byte(`{"eventId":"11111111-1111-4111-8111-111111111111","name":"김민수","phone":"010-1234-5678","entryPath":"KAKAO","privacyConsent":true}`)

type benchRegistration struct {
	EventID        *string `json:"eventId"`
	Name           *string `json:"name"`
	Phone          *string `json:"phone"`
	EntryPath      *string `json:"entryPath"`
	PrivacyConsent *bool   `json:"privacyConsent"`
}

// The cost of exact keys: the key walk before the decode, per registration.
func BenchmarkDecodeRegistration(b *testing.B) {
	b.Run("decode_only", func(b *testing.B) {
		for b.Loop() {
			var r benchRegistration
			dec := json.NewDecoder(bytes.NewReader(benchBody))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&r); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("exact_keys_then_decode", func(b *testing.B) {
		names := jsonNames(reflect.TypeOf(&benchRegistration{}))
		for b.Loop() {
			var r benchRegistration
			if err := checkKeys(benchBody, names); err != nil {
				b.Fatal(err)
			}
			dec := json.NewDecoder(bytes.NewReader(benchBody))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&r); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkRateLimitAllow(b *testing.B) {
	l := newIPLimiter(RateLimit{PerSecond: 1e9, Burst: 1e9}, time.Now)
	ip := netip.MustParseAddr("192.0.2.1")
	for b.Loop() {
		l.allow(ip)
	}
}
