// The client-side checks, the same rules as the API (DESIGN: a name is 2–50
// characters after trimming and not only digits or punctuation; a phone is
// 010 plus 8 digits in one of three spellings), so a typo is caught before
// any request. The API checks again; these only spare a round trip.
const PHONE = /^010(-\d{4}-\d{4}|\d{8}| \d{4} \d{4})$/;

export function checkName(v) {
  const s = v.trim();
  const n = [...s].length;
  if (n === 0) return "이름을 입력해주세요.";
  if (n < 2) return "이름은 2자 이상 입력해주세요.";
  if (n > 50) return "이름은 50자 이하로 입력해주세요.";
  if (/^[\d\s\p{P}\p{S}]+$/u.test(s)) return "이름은 글자로 입력해주세요.";
  return "";
}

export function checkPhone(v) {
  const s = v.trim();
  if (!s) return "휴대폰 번호를 입력해주세요.";
  if (!PHONE.test(s)) return "휴대폰 번호는 010-1234-5678 형식으로 입력해주세요.";
  return "";
}
