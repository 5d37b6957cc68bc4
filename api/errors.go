package api

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/shopevents/participation/commands"
	"github.com/shopevents/participation/domain"
)

// Errors the HTTP layer raises itself; domain errors come from the handlers.
var (
	errUnavailable      = errors.New("dependency not configured")
	errNotReady         = errors.New("not ready")
	errPayloadTooLarge  = errors.New("request body too large")
	errDrawLogNotFound  = errors.New("draw log not found")
	errRouteNotFound    = errors.New("route not found")
	errMethodNotAllowed = errors.New("method not allowed")
	errRateLimited      = errors.New("rate limited")
	errTooManyStreams   = errors.New("too many analytics streams")
	// errIdempotencyKeyReused: the key came before with another body.
	errIdempotencyKeyReused = errors.New("idempotency key reused with another request")
	// errIdempotencyKeyInUse: the first request with the key is still running.
	errIdempotencyKeyInUse = errors.New("idempotency key in use")
)

// authError is a failed authentication; Reason is safe to show.
type authError struct{ Reason string }

func (e *authError) Error() string { return "unauthorized: " + e.Reason }

// errorBody is the one error shape of every 4xx and 5xx answer.
type errorBody struct {
	Code    string              `json:"code"`
	Message string              `json:"message"`
	Errors  []domain.FieldError `json:"errors,omitempty"`
}

// classify is the only place that knows which error is which HTTP status.
func classify(err error) (int, errorBody) {
	var ve *domain.ValidationError
	var ae *authError
	switch {
	case errors.As(err, &ve):
		return http.StatusBadRequest, errorBody{"INVALID_REQUEST", "입력값을 확인해주세요", ve.Fields}
	case errors.Is(err, domain.ErrVerificationRequired):
		return http.StatusBadRequest, errorBody{"VERIFICATION_REQUIRED", "휴대폰 인증번호를 입력해주세요",
			[]domain.FieldError{{Field: "verificationCode", Reason: "Phone verification is on: ask for a code and send it here."}}}
	case errors.Is(err, domain.ErrVerificationFailed):
		return http.StatusBadRequest, errorBody{"VERIFICATION_FAILED", "인증번호가 맞지 않거나 만료되었습니다",
			[]domain.FieldError{{Field: "verificationCode", Reason: "The code is wrong, expired, used up or was never sent: ask for a new one."}}}
	case errors.Is(err, domain.ErrVerificationOff):
		return http.StatusConflict, errorBody{Code: "VERIFICATION_OFF", Message: "휴대폰 인증을 사용하지 않는 서비스입니다"}
	case errors.As(err, new(*domain.VerificationTooSoonError)):
		return http.StatusTooManyRequests, errorBody{"VERIFICATION_TOO_SOON", "인증번호는 1분에 한 번 받을 수 있습니다. 잠시 후 다시 시도해주세요",
			[]domain.FieldError{{Field: "phone", Reason: "A code was sent to this phone less than 60 seconds ago: retry after Retry-After seconds."}}}
	case errors.Is(err, commands.ErrNotifierUnavailable):
		return http.StatusServiceUnavailable, errorBody{Code: "UNAVAILABLE", Message: "인증번호를 보내지 못했습니다. 잠시 후 다시 시도해주세요"}
	case errors.Is(err, domain.ErrInvalid):
		return http.StatusBadRequest, errorBody{Code: "INVALID_REQUEST", Message: "입력값을 확인해주세요"}
	case errors.As(err, &ae):
		return http.StatusUnauthorized, errorBody{"UNAUTHORIZED", "인증이 필요합니다",
			[]domain.FieldError{{Field: "Authorization", Reason: ae.Reason}}}
	case errors.Is(err, domain.ErrNotOwner):
		return http.StatusForbidden, errorBody{Code: "FORBIDDEN", Message: "이 이벤트에 대한 권한이 없습니다"}
	case errors.Is(err, domain.ErrCampaignNotFound):
		return http.StatusNotFound, errorBody{Code: "EVENT_NOT_FOUND", Message: "이벤트를 찾을 수 없습니다"}
	case errors.Is(err, ErrNotificationNotFailed):
		return http.StatusConflict, errorBody{Code: "NOTIFICATION_NOT_FAILED", Message: "다시 보낼 실패한 알림이 없습니다"}
	case errors.Is(err, domain.ErrNotWinner):
		return http.StatusNotFound, errorBody{Code: "WINNER_NOT_FOUND", Message: "당첨자를 찾을 수 없습니다"}
	case errors.Is(err, domain.ErrParticipantErased):
		return http.StatusConflict, errorBody{Code: "PARTICIPANT_ERASED", Message: "개인정보가 삭제된 참여자입니다"}
	case errors.Is(err, domain.ErrParticipantNotFound), errors.Is(err, commands.ErrEntryErased):
		return http.StatusNotFound, errorBody{Code: "PARTICIPANT_NOT_FOUND", Message: "참여자를 찾을 수 없습니다"}
	case errors.Is(err, errDrawLogNotFound), errors.Is(err, commands.ErrDrawNotFound):
		return http.StatusNotFound, errorBody{Code: "DRAW_LOG_NOT_FOUND", Message: "추첨 기록을 찾을 수 없습니다"}
	case errors.Is(err, commands.ErrNotDrawn), errors.Is(err, domain.ErrResultNotDrawn):
		return http.StatusNotFound, errorBody{Code: "NOT_DRAWN", Message: "아직 추첨하지 않은 이벤트입니다"}
	case errors.Is(err, commands.ErrNoPublicLeaves):
		return http.StatusNotFound, errorBody{Code: "NO_PUBLIC_LEAVES", Message: "이 추첨은 공개 후보 목록이 없는 방식(v1)입니다"}
	case errors.Is(err, commands.ErrNotAnnounced):
		return http.StatusConflict, errorBody{Code: "NOT_ANNOUNCED", Message: "당첨자 발표 전입니다"}
	case errors.Is(err, errRouteNotFound):
		return http.StatusNotFound, errorBody{Code: "NOT_FOUND", Message: "요청한 경로를 찾을 수 없습니다"}
	case errors.Is(err, errMethodNotAllowed):
		return http.StatusMethodNotAllowed, errorBody{Code: "METHOD_NOT_ALLOWED", Message: "허용되지 않는 메서드입니다"}
	case errors.Is(err, domain.ErrAlreadyParticipated):
		return http.StatusConflict, errorBody{Code: "ALREADY_PARTICIPATED", Message: "이미 참여하신 이벤트입니다"}
	case errors.Is(err, domain.ErrEventNotOpen):
		return http.StatusConflict, errorBody{Code: "EVENT_NOT_OPEN", Message: "지금은 참여할 수 없는 이벤트입니다"}
	case errors.Is(err, domain.ErrCampaignExists):
		return http.StatusConflict, errorBody{Code: "EVENT_EXISTS", Message: "이미 존재하는 이벤트입니다"}
	case errors.Is(err, domain.ErrNotAnnounced):
		return http.StatusConflict, errorBody{Code: "NOT_ANNOUNCED", Message: "아직 당첨자 발표 전입니다"}
	case errors.Is(err, domain.ErrAlreadyClaimed):
		return http.StatusConflict, errorBody{Code: "ALREADY_CLAIMED", Message: "이미 경품 수령 신청을 하셨습니다"}
	case errors.Is(err, domain.ErrNotClaimed):
		return http.StatusConflict, errorBody{Code: "NOT_CLAIMED", Message: "아직 경품 수령 신청을 하지 않은 당첨자입니다"}
	case errors.Is(err, domain.ErrClaimClosed):
		return http.StatusConflict, errorBody{Code: "CLAIM_CLOSED", Message: "경품 수령 신청 기간이 지났습니다"}
	case errors.Is(err, domain.ErrClaimStillOpen):
		return http.StatusConflict, errorBody{Code: "CLAIM_STILL_OPEN", Message: "당첨자의 경품 수령 신청 기간이 아직 남아 있습니다"}
	case errors.Is(err, domain.ErrNoAlternate):
		return http.StatusConflict, errorBody{Code: "NO_ALTERNATE", Message: "남은 예비 당첨자가 없습니다"}
	case errors.Is(err, domain.ErrAlreadyReplaced):
		return http.StatusConflict, errorBody{Code: "ALREADY_REPLACED", Message: "이미 교체된 당첨자입니다"}
	case errors.Is(err, domain.ErrNotErased):
		return http.StatusConflict, errorBody{Code: "NOT_ERASED", Message: "개인정보가 삭제되지 않은 당첨자입니다"}
	case errors.Is(err, domain.ErrAlreadyDrawn):
		return http.StatusConflict, errorBody{Code: "ALREADY_DRAWN", Message: "이미 추첨이 끝난 이벤트입니다"}
	case errors.Is(err, commands.ErrDrawPending):
		return http.StatusConflict, errorBody{Code: "DRAW_PENDING", Message: "추첨이 공개 난수를 기다리고 있습니다"}
	case errors.Is(err, errUnsupportedMediaType):
		return http.StatusUnsupportedMediaType, errorBody{"UNSUPPORTED_MEDIA_TYPE", "요청 본문은 JSON이어야 합니다",
			[]domain.FieldError{{Field: "Content-Type", Reason: "A request body must be sent as application/json."}}}
	case errors.Is(err, errPayloadTooLarge):
		return http.StatusRequestEntityTooLarge, errorBody{Code: "PAYLOAD_TOO_LARGE", Message: "요청 본문은 1 MiB 이하여야 합니다"}
	case errors.Is(err, domain.ErrInvalidWinnerCount):
		return http.StatusUnprocessableEntity, errorBody{Code: "INVALID_WINNER_COUNT", Message: "당첨자 수는 1명 이상, 추첨 대상자 수 이하여야 합니다"}
	case errors.As(err, new(*commands.EntryLockedError)):
		return http.StatusTooManyRequests, errorBody{"ENTRY_LOCKED", "잘못된 시도가 많아 1시간 동안 잠겼습니다. 잠시 후 다시 시도해주세요",
			[]domain.FieldError{{Field: "entryNumber", Reason: "Too many wrong phones for this entry: retry after Retry-After seconds."}}}
	case errors.Is(err, errRateLimited):
		return http.StatusTooManyRequests, errorBody{Code: "RATE_LIMITED", Message: "요청이 너무 많습니다. 잠시 후 다시 시도해주세요"}
	case errors.Is(err, errTooManyStreams):
		return http.StatusTooManyRequests, errorBody{Code: "TOO_MANY_STREAMS", Message: "동시에 열 수 있는 실시간 분석 연결은 10개까지입니다"}
	case errors.Is(err, errIdempotencyKeyReused):
		return http.StatusUnprocessableEntity, errorBody{"IDEMPOTENCY_KEY_REUSED", "같은 Idempotency-Key로 다른 요청을 보낼 수 없습니다",
			[]domain.FieldError{{Field: "Idempotency-Key", Reason: "This key was used with another request body in the last 24 hours."}}}
	case errors.Is(err, errIdempotencyKeyInUse):
		return http.StatusConflict, errorBody{"IDEMPOTENCY_KEY_IN_USE", "같은 Idempotency-Key의 요청을 처리 중입니다. 잠시 후 다시 시도해주세요",
			[]domain.FieldError{{Field: "Idempotency-Key", Reason: "The first request with this key has not answered yet."}}}
	case errors.Is(err, errUnavailable), errors.Is(err, errNotReady), errors.Is(err, commands.ErrRandomnessUnavailable),
		errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable, errorBody{Code: "UNAVAILABLE", Message: "잠시 후 다시 시도해주세요"}
	}
	return http.StatusInternalServerError, errorBody{Code: "INTERNAL", Message: "일시적인 오류가 발생했습니다"}
}

// writeError answers with err's status and shape and aborts the chain. Server
// failures are logged with the correlation id; their text never reaches the client.
func (s *server) writeError(c *gin.Context, err error) {
	status, body := classify(err)
	if status == http.StatusInternalServerError && s.cfg.Unavailable != nil && s.cfg.Unavailable(err) {
		status, body = classify(errUnavailable)
	}
	if status >= http.StatusInternalServerError {
		s.logger.LogAttrs(c.Request.Context(), slog.LevelError, "request failed",
			slog.String("correlation_id", correlationID(c)),
			slog.String("route", routeOf(c)),
			slog.Int("status", status),
			slog.String("error", err.Error()))
	}
	if locked := new(commands.EntryLockedError); errors.As(err, &locked) {
		c.Header("Retry-After", strconv.Itoa(int(math.Ceil(locked.RetryAfter.Seconds()))))
	}
	if soon := new(domain.VerificationTooSoonError); errors.As(err, &soon) {
		c.Header("Retry-After", strconv.Itoa(int(math.Ceil(soon.RetryAfter.Seconds()))))
	}
	if status == http.StatusUnauthorized {
		c.Header("WWW-Authenticate", `Bearer realm="participation"`)
	}
	c.AbortWithStatusJSON(status, body)
}
