package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/shopevents/participation/domain"
)

// decodeJSON reads exactly one JSON object of at most maxBytes into dst:
// keys must be dst's JSON names exactly (encoding/json alone would take
// "PRIVACYCONSENT" for "privacyConsent"), each at most once; unknown
// fields, wrong types and trailing data are a *domain.ValidationError
// naming the field where it can; a body past the limit is errPayloadTooLarge.
func decodeJSON(c *gin.Context, maxBytes int64, dst any) error {
	body, err := readBody(c, maxBytes)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return decodeError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return invalidField("body", "Only one JSON object is allowed; unexpected data after it.")
	}
	return checkKeys(body, jsonNames(reflect.TypeOf(dst)))
}

// checkKeys rejects a top-level key of body that is not exactly one of
// names, or that comes twice. body is one valid JSON value (the decoder
// accepted it), so a byte scan suffices: a string directly inside the
// top-level object and followed by ':' is a key. (The request bodies are
// flat: a nested object can only sit under a field the decoder refused.)
func checkKeys(body []byte, names map[string]bool) error {
	seen := make(map[string]bool, len(names))
	depth := 0
	for i := 0; i < len(body); i++ {
		switch body[i] {
		case '{', '[':
			depth++
		case '}', ']':
			depth--
		case '"':
			end, escaped := stringEnd(body, i)
			if depth == 1 && nextNonSpace(body, end+1) == ':' {
				key := string(body[i+1 : end])
				if escaped {
					_ = json.Unmarshal(body[i:end+1], &key) // valid: the decoder read it
				}
				switch {
				case seen[key]:
					return invalidField(key, "Duplicate key.")
				case !names[key]:
					return invalidField(key, "Unknown field (names are case-sensitive).")
				}
				seen[key] = true
			}
			i = end
		}
	}
	return nil
}

// stringEnd is the index of the quote closing the string opening at i.
func stringEnd(b []byte, i int) (end int, escaped bool) {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			escaped = true
			j++
		case '"':
			return j, escaped
		}
	}
	return len(b) - 1, escaped
}

func nextNonSpace(b []byte, i int) byte {
	for ; i < len(b); i++ {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
		default:
			return b[i]
		}
	}
	return 0
}

var jsonNameCache sync.Map // reflect.Type → map[string]bool

// jsonNames is the set of JSON names of a struct (or pointer to one).
func jsonNames(t reflect.Type) map[string]bool {
	if v, ok := jsonNameCache.Load(t); ok {
		return v.(map[string]bool)
	}
	st := t
	for st.Kind() == reflect.Pointer {
		st = st.Elem()
	}
	if st.Kind() != reflect.Struct {
		return nil
	}
	names := make(map[string]bool, st.NumField())
	for f := range st.Fields() {
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch name {
		case "-":
			continue
		case "":
			name = f.Name
		}
		names[name] = true
	}
	jsonNameCache.Store(t, names)
	return names
}

func decodeError(err error) error {
	var tooLarge *http.MaxBytesError
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &tooLarge):
		return errPayloadTooLarge
	case errors.Is(err, io.EOF):
		return invalidField("body", "A JSON object is required.")
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			return invalidField("body", "The body must be a JSON object.")
		}
		return invalidField(field, "Must be "+jsonKind(typeErr.Type)+".")
	case errors.As(err, &syntaxErr), errors.Is(err, io.ErrUnexpectedEOF):
		return invalidField("body", "The body is not well-formed JSON.")
	}
	// encoding/json reports unknown fields only as text: `json: unknown field "x"`.
	if msg := err.Error(); strings.Contains(msg, "unknown field") {
		if i := strings.IndexByte(msg, '"'); i >= 0 {
			if name, uerr := strconv.Unquote(msg[i:]); uerr == nil {
				return invalidField(name, "Unknown field.")
			}
		}
		return invalidField("body", "The body has an unknown field.")
	}
	return invalidField("body", "The body is not valid JSON for this request.")
}

func jsonKind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer in range"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	}
	return "an object"
}

func invalidField(field, reason string) error {
	return &domain.ValidationError{Fields: []domain.FieldError{{Field: field, Reason: reason}}}
}

// fieldErrors accumulates the request-shape problems of one request.
type fieldErrors []domain.FieldError

func (f *fieldErrors) add(field, reason string) {
	*f = append(*f, domain.FieldError{Field: field, Reason: reason})
}

func (f fieldErrors) err() error {
	if len(f) == 0 {
		return nil
	}
	return &domain.ValidationError{Fields: f}
}

const reasonRequired = "This field is required."

func (f *fieldErrors) requiredString(field string, v *string) string {
	if v == nil {
		f.add(field, reasonRequired)
		return ""
	}
	return *v
}

func (f *fieldErrors) uuid(field string, v *string, required bool) uuid.UUID {
	if v == nil {
		if required {
			f.add(field, reasonRequired)
		}
		return uuid.Nil
	}
	id, err := parseUUID(*v)
	if err != nil || id == uuid.Nil { // the nil UUID is no id: it must not mean "generate one"
		f.add(field, "Must be a UUID.")
	}
	return id
}

func (f *fieldErrors) time(field string, v *string) time.Time {
	if v == nil {
		f.add(field, reasonRequired)
		return time.Time{}
	}
	// time.Parse alone takes more than the spec's pattern says (a comma
	// before the fraction, for one): the pattern decides, then the calendar.
	t, err := time.Parse(time.RFC3339, *v)
	if err != nil || !rfc3339.MatchString(*v) {
		f.add(field, "Must be an RFC 3339 time, e.g. 2025-05-01T10:00:00+09:00.")
	}
	return t
}

// rfc3339 is the Time pattern of openapi.yaml.
var rfc3339 = regexp.MustCompile(`^[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]+)?(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])$`)

// parseUUID accepts only the canonical 36-character form.
func parseUUID(s string) (uuid.UUID, error) {
	if len(s) != 36 {
		return uuid.Nil, errors.New("not a canonical UUID")
	}
	return uuid.Parse(s)
}
