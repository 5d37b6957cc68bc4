package notify

import (
	"sort"
	"strings"
)

// Template variables (the webhook's "variables" keys).
const (
	VarTitle    = "title"
	VarRank     = "rank"
	VarClaimURL = "claimUrl"
	VarDeadline = "deadline"
	VarCode     = "code"
)

// texts are the messages' Korean text; #{name} is a variable, as 알림톡
// templates registered with a provider write them.
var texts = map[string]string{
	TemplateWinner: "[#{title}] 축하합니다! #{rank}등에 당첨되셨습니다. " +
		"#{deadline}까지 경품 수령 신청을 해주세요: #{claimUrl}",
	TemplateClaimReminder: "[#{title}] 경품 수령 신청 마감이 다가옵니다 (#{deadline}까지). " +
		"아직 신청하지 않으셨다면 지금 신청해주세요: #{claimUrl}",
	TemplateOTP: "[인증번호] #{code} (3분 안에 입력해주세요)",
}

// Text is template's text with its #{variables} unfilled, as a provider
// registers it.
func Text(template string) string { return texts[template] }

// Render fills template's text with vars; an unknown template lists the
// variables instead, so nothing is silently dropped.
func Render(template string, vars map[string]string) string {
	text, ok := texts[template]
	if !ok {
		keys := make([]string, 0, len(vars))
		for k := range vars {
			keys = append(keys, k+"="+vars[k])
		}
		sort.Strings(keys)
		return template + " " + strings.Join(keys, " ")
	}
	for k, v := range vars {
		text = strings.ReplaceAll(text, "#{"+k+"}", v)
	}
	return text
}
