package domain_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/shopevents/participation/domain"
)

func TestNewDelivery(t *testing.T) {
	t.Parallel()
	ok := domain.Delivery{RecipientName: " 김철수 ", Postcode: "06236", Address1: " 서울특별시 강남구 테헤란로 123 ", Address2: "4층"}
	tests := []struct {
		name      string
		edit      func(*domain.Delivery)
		consent   bool
		badFields []string
	}{
		{"valid", func(*domain.Delivery) {}, true, nil},
		{"no_address2", func(d *domain.Delivery) { d.Address2 = "" }, true, nil},
		{"address1_200", func(d *domain.Delivery) { d.Address1 = strings.Repeat("가", 200) }, true, nil},
		{"address1_200_trimmed", func(d *domain.Delivery) { d.Address1 = "  " + strings.Repeat("가", 200) + "\u3000" }, true, nil},
		{"no_consent", func(*domain.Delivery) {}, false, []string{"deliveryConsent"}},
		{"name_with_digits", func(d *domain.Delivery) { d.RecipientName = "김철수2" }, true, []string{"recipientName"}},
		{"name_one_letter", func(d *domain.Delivery) { d.RecipientName = "김" }, true, []string{"recipientName"}},
		{"postcode_4_digits", func(d *domain.Delivery) { d.Postcode = "0623" }, true, []string{"postcode"}},
		{"postcode_letters", func(d *domain.Delivery) { d.Postcode = "0623a" }, true, []string{"postcode"}},
		{"postcode_fullwidth_digits", func(d *domain.Delivery) { d.Postcode = "０６２３６" }, true, []string{"postcode"}},
		{"address1_empty", func(d *domain.Delivery) { d.Address1 = "" }, true, []string{"address1"}},
		{"address1_spaces", func(d *domain.Delivery) { d.Address1 = "   " }, true, []string{"address1"}},
		{"address1_201", func(d *domain.Delivery) { d.Address1 = strings.Repeat("가", 201) }, true, []string{"address1"}},
		{"address2_201", func(d *domain.Delivery) { d.Address2 = strings.Repeat("가", 201) }, true, []string{"address2"}},
		{"address1_bidi_control", func(d *domain.Delivery) { d.Address1 = "서울\u202E123" }, true, []string{"address1"}},
		{"address2_zero_width", func(d *domain.Delivery) { d.Address2 = "4\u200B층" }, true, []string{"address2"}},
		{"address1_newline", func(d *domain.Delivery) { d.Address1 = "서울\n123" }, true, []string{"address1"}},
		{"everything_wrong", func(d *domain.Delivery) { *d = domain.Delivery{Address2: "\u200B"} }, false,
			[]string{"recipientName", "postcode", "address1", "address2", "deliveryConsent"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := ok
			tt.edit(&in)
			got, err := domain.NewDelivery(in, tt.consent)
			var ve *domain.ValidationError
			if tt.badFields == nil {
				if err != nil {
					t.Fatalf("err = %v", err)
				}
				if got.RecipientName != "김철수" || strings.TrimSpace(got.Address1) != got.Address1 {
					t.Fatalf("delivery = %+v, want trimmed", got)
				}
				return
			}
			if !errors.As(err, &ve) {
				t.Fatalf("err = %v, want a validation error", err)
			}
			var fields []string
			for _, f := range ve.Fields {
				fields = append(fields, f.Field)
			}
			if strings.Join(fields, ",") != strings.Join(tt.badFields, ",") {
				t.Fatalf("fields = %v, want %v", fields, tt.badFields)
			}
		})
	}
}
