"""schemathesis hooks for deploy/fuzz/schemathesis.sh (SCHEMATHESIS_HOOKS).

Random dates almost never make a campaign that is open now, and only an open
campaign takes registrations, whose draw yields a draw log: without this the
stateful phase would reach the draw and the draw-log operations only with
unknown ids. Half of the schema-valid campaign bodies get dates around now
(still schema-valid; a body that is invalid on purpose is left as it is).
"""
import re
import zlib
from datetime import datetime, timedelta, timezone

import schemathesis
from hypothesis import strategies as st

TIME = re.compile(
    r"^[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]"
    r"(?:\.[0-9]+)?(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])$"
)
FIELDS = ("startsAt", "endsAt", "announceAt")


@schemathesis.hook("map_body").apply_to(method="POST", path="/api/v1/events")
def open_now(context, body):
    # half of them, decided by the body itself so that hypothesis can replay and shrink
    if not isinstance(body, dict) or zlib.crc32(repr(sorted(body.items())).encode()) % 2:
        return body
    if not all(isinstance(body.get(f), str) and TIME.match(body[f]) for f in FIELDS):
        return body
    now = datetime.now(timezone.utc).replace(microsecond=0)
    stamp = lambda t: t.strftime("%Y-%m-%dT%H:%M:%SZ")
    moved = {**body, "startsAt": stamp(now - timedelta(hours=1)), "endsAt": stamp(now + timedelta(days=1)),
             "announceAt": stamp(now + timedelta(days=2))}
    # a generated claimDeadline would almost always fall before the new announceAt
    if isinstance(body.get("claimDeadline"), str) and TIME.match(body["claimDeadline"]):
        moved["claimDeadline"] = stamp(now + timedelta(days=9))
    return moved


# The name's pattern needs a lookahead (its length counts a run of inner white
# space as one), which hypothesis can only filter for: generate names that
# already fit it, in the scripts a shop's customers write them in, with a
# white-space run now and then. Negative cases still come from the pattern.
_letters = st.sampled_from(list("김이박최정강조윤장임한오서신권황안송류홍민수영희지현서준하윤도아예은ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyzéüñçøåß"))
_word = st.lists(_letters, min_size=1, max_size=12).map("".join)
_name = st.builds(
    lambda first, rest, pad: pad + " ".join([first, *rest]) + pad,
    _word.filter(lambda w: len(w) >= 2),
    st.lists(_word, max_size=2),
    st.sampled_from(["", " ", "\t", "\u3000"]),
)
schemathesis.openapi.format("person-name", _name)


# The stateful phase follows the registration's EraseMyData link, whose body
# schemathesis takes field by field from the link or from generation. Its
# ensure_resource_availability check reads any 404 from a POST under
# /api/v1/participations after a registration's 201 as "the registration is
# missing", but the erasure answers 404 for every mismatch by contract (a
# generated phone, another campaign). So a stateful erasure names a
# registration this run made: the one its entry number came from, else the
# latest. Generated erasure bodies, valid and not, are fuzzed in the other
# phases.
_registrations = {}  # entryNumber → the registration's eventId, phone, entryNumber
_latest = None


def _is_stateful(case):
    meta = getattr(case, "meta", None)
    return meta is not None and str(meta.phase.name) == "stateful"


@schemathesis.hook
def after_call(context, case, response):
    global _latest
    if case.method.upper() != "POST" or case.path != "/api/v1/participations" or response.status_code != 201:
        return
    if not isinstance(case.body, dict):
        return
    try:
        entry = response.json().get("entryNumber")
    except ValueError:
        return
    if isinstance(entry, str):
        _latest = {"eventId": case.body.get("eventId"), "phone": case.body.get("phone"), "entryNumber": entry}
        _registrations[entry] = _latest


@schemathesis.hook
def before_call(context, case, **kwargs):
    if case.method.upper() != "POST" or not _is_stateful(case):
        return
    body = case.body if isinstance(case.body, dict) else {}
    known = _registrations.get(body.get("entryNumber")) or _latest
    if known is None:
        return
    if case.path == "/api/v1/participations/erase":
        case.body = dict(known)
    elif case.path == "/api/v1/events/{eventId}/result/check":
        # 당첨 확인 of a registration this run made, as the erase above.
        case.body = {"phone": known["phone"], "entryNumber": known["entryNumber"]}
        case.path_parameters = dict(case.path_parameters or {}, eventId=known["eventId"])
    elif case.path == "/api/v1/events/{eventId}/claims":
        # A claim of a registration this run made: the generated delivery
        # details stay (they are what is fuzzed), the match comes from it.
        case.body = dict(body, phone=known["phone"], entryNumber=known["entryNumber"])
        case.path_parameters = dict(case.path_parameters or {}, eventId=known["eventId"])
