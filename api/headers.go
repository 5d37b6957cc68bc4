package api

import (
	"errors"
	"mime"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
)

// errUnsupportedMediaType: a body that does not say it is JSON.
var errUnsupportedMediaType = errors.New("request body is not application/json")

// nosniff keeps a browser from guessing a type other than the one an answer
// declares (a JSON error echoing input must never run as HTML or script).
func (s *server) nosniff(c *gin.Context) {
	c.Header("X-Content-Type-Options", "nosniff")
	c.Next()
}

// noStore keeps owner data out of browser and proxy caches. It is set before
// the handler runs, so 401s, CSV and SSE answers carry it too; a handler may
// not weaken it.
func (s *server) noStore(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	c.Next()
}

// requireJSON refuses a body that is not application/json with 415: a
// cross-site page can send text/plain, form or multipart bodies without a
// CORS preflight, but never application/json. A request without a body
// (an empty POST or DELETE) needs no Content-Type.
func (s *server) requireJSON(c *gin.Context) {
	if carriesBody(c.Request) && !isJSON(c.GetHeader("Content-Type")) {
		s.writeError(c, errUnsupportedMediaType)
		return
	}
	c.Next()
}

// carriesBody: a positive Content-Length, or a body of unknown length
// (chunked Transfer-Encoding in HTTP/1.1, a streamed HTTP/2 body). net/http
// sets ContentLength to 0 for a request with neither.
func carriesBody(r *http.Request) bool {
	return r.ContentLength != 0 || len(r.TransferEncoding) > 0
}

// isJSON accepts application/json in any letter case, with parameters; a
// charset, if given, must be UTF-8, the only encoding JSON bodies are read in.
func isJSON(contentType string) bool {
	mediaType, params, err := mime.ParseMediaType(contentType)
	if err != nil || mediaType != "application/json" { // ParseMediaType lower-cases it
		return false
	}
	cs, ok := params["charset"]
	return !ok || strings.EqualFold(cs, "utf-8")
}
