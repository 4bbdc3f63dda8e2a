# Writes the scenario directories (run from tests/scenarios). Every expected value
# here was derived by hand from bursar's specification (docs/semantics.md); see each scenario README.md.
import os, sys
sys.path.insert(0, os.path.dirname(__file__))
from scenario import *
scenario("banking_rolls_unused_credits_forward_and_expires_them",
"""Monthly 100 with bank_months 1. 10 used in January; 90 roll into February
and expire at the start of March (January's grant lives until Jan+1+1). The
March event rolls the ledger over February and March (one balance record per
month start), then burns February's banked grant first (oldest first) and 50 of
March's: used_banked 100 >= 0.5 x banked_at_start 100 fires banking.drawdown.
Step 4 then closes the January window; its balance record carries the ledger as
it is after the March event (state is updated in step 3, windows close in
step 4). No month roll by watermark happens: the ledger is already in March.""",
[ev("e1","2026-01-10T00:00:00Z",credits="10"), ev("e2","2026-03-05T00:00:00Z",credits="150")],
[ent(valid_from="2026-01-01T00:00:00Z", credits={"monthly":"100","bank_months":1})],
[f("banking.drawdown","2026-03-05T00:00:00.000Z","2026-03",3, used_banked="100", banked_at_start="100"),
 win("k1","1d","2026-01-10T00:00:00.000Z","2026-01-11T00:00:00.000Z",1,"10",{"chat":1},0),
 win("k1","1d","2026-03-05T00:00:00.000Z","2026-03-06T00:00:00.000Z",1,"150",{"chat":1},0),
 bal("k1","2026-02-01T00:00:00.000Z","2026-02","190","90","0","0","190","0","200","10","0",[("2026-01","100","90","2026-03-01T00:00:00.000Z"),("2026-02","100","100","2026-04-01T00:00:00.000Z")]),
 bal("k1","2026-03-01T00:00:00.000Z","2026-03","200","100","0","0","200","0","300","10","90",[("2026-02","100","100","2026-04-01T00:00:00.000Z"),("2026-03","100","100","2026-05-01T00:00:00.000Z")]),
 bal("k1","2026-01-11T00:00:00.000Z","2026-03","200","100","150","100","50","0","300","160","90",[("2026-02","100","0","2026-04-01T00:00:00.000Z"),("2026-03","100","50","2026-05-01T00:00:00.000Z")]),
 bal("k1","2026-03-05T00:00:00.000Z","2026-03","200","100","150","100","50","0","300","160","90",[("2026-02","100","0","2026-04-01T00:00:00.000Z"),("2026-03","100","50","2026-05-01T00:00:00.000Z")]),
],
config='lateness = "0s"\nwindows = ["1d"]')
G=lambda m,a,r,x:(m,a,r,x)
scenario("overage_is_paid_by_the_next_grant_after_thresholds_and_overdraft",
"""Monthly 100, use-it-or-lose-it. 85 used reaches 0.8 of 100 (severity 2);
30 more: 15 from the grant, 15 overage -> credits.overdraft, then the 1.0
threshold (severity 3), in that order. February's grant pays the 15 overage
first: available_at_start = 0 banked + 100 - 15 = 85. Balance records come at
each 1d window close (as_of the window end, the state after the event that
closed it), at the February roll (as_of Feb 1), and at end of input.""",
[ev("e1","2026-01-05T12:00:00Z",credits=85), ev("e2","2026-01-06T12:00:00Z",credits="30"), ev("e3","2026-02-02T12:00:00Z",credits="10")],
[ent(credits={"monthly":"100"})],
[f("credits.threshold","2026-01-05T12:00:00.000Z","2026-01|800",2, threshold="0.8", used="85", available_at_start="100"),
 f("credits.overdraft","2026-01-06T12:00:00.000Z","2026-01",3, overage="15"),
 f("credits.threshold","2026-01-06T12:00:00.000Z","2026-01|1000",3, threshold="1", used="115"),
 {"ignore":["windows"]},
 bal("k1","2026-01-06T00:00:00.000Z","2026-01","100","0","115","0","0","15","100","100","0",[G("2026-01","100","0","2026-02-01T00:00:00.000Z")]),
 bal("k1","2026-02-01T00:00:00.000Z","2026-02","85","0","0","0","85","0","200","115","0",[G("2026-02","100","85","2026-03-01T00:00:00.000Z")]),
 bal("k1","2026-01-07T00:00:00.000Z","2026-02","85","0","10","0","75","0","200","125","0",[G("2026-02","100","75","2026-03-01T00:00:00.000Z")]),
 bal("k1","2026-02-02T12:00:00.000Z","2026-02","85","0","10","0","75","0","200","125","0",[G("2026-02","100","75","2026-03-01T00:00:00.000Z")]),
],
config='lateness = "0s"\nwindows = ["1d"]')

scenario("dormancy_at_the_boundary_and_the_idle_timer",
"""Dormancy 10d. k1 comes back exactly 10 days after its last activity:
dormant.reactivated (gap == dormancy fires; dedupe key = the last activity in
epoch ms), and the idle timer due at that same instant does not fire: the
event moved it (step 4). 10 days minus 1 ms later: no reactivation. k2's event
on Feb 5 moves the watermark past k1's due instant (Jan 20 23:59:59.999 + 10d):
dormant.idle at the due instant, severity 1.""",
[ev("e1","2026-01-01T00:00:00Z"), ev("e2","2026-01-11T00:00:00Z"), ev("e3","2026-01-20T23:59:59.999Z"), ev("e4","2026-02-05T00:00:00Z",cred="k2")],
[ent(dormancy="10d"), ent("k2",dormancy="10d")],
[f("dormant.reactivated","2026-01-11T00:00:00.000Z","1767225600000",3, gap_days=10, gap_ms=864000000, last_activity="2026-01-01T00:00:00.000Z"),
 f("dormant.idle","2026-01-30T23:59:59.999Z","1768953599999",1, due="2026-01-30T23:59:59.999Z", dormancy="10d"),
 {"ignore":["windows","balances"]}],
config='lateness = "0s"')

scenario("scope_violation_once_a_day_and_drift_after_learning",
"""Scope: capabilities chat and emb*, models llama-*. During the 7-day learning
period chat and llama-3 are remembered. `image` without a model violates the
capability only (no model is not checked against models), once per
(capability, model) per day. After learning, embeddings fires scope.drift for
the capability; gpt-4 violates the model (no drift for a violating event);
llama-70b fires drift for the model; a repeat of both fires nothing.""",
[ev("e1","2026-01-01T10:00:00Z",model="llama-3"), ev("e2","2026-01-02T10:00:00Z",cap="image"), ev("e3","2026-01-02T11:00:00Z",cap="image"),
 ev("e4","2026-01-09T10:00:00Z",cap="embeddings",model="llama-3"), ev("e5","2026-01-09T11:00:00Z",model="gpt-4"),
 ev("e6","2026-01-10T10:00:00Z",model="llama-70b"), ev("e7","2026-01-10T11:00:00Z",cap="embeddings",model="llama-70b")],
[ent(scope={"capabilities":["chat","emb*"],"models":["llama-*"]})],
[f("scope.violation","2026-01-02T10:00:00.000Z","image||2026-01-02",4, violated=["capability"], model=""),
 f("scope.drift","2026-01-09T10:00:00.000Z","capability|embeddings",2, dimension="capability", value="embeddings"),
 f("scope.violation","2026-01-09T11:00:00.000Z","chat|gpt-4|2026-01-09",4, violated=["model"]),
 f("scope.drift","2026-01-10T10:00:00.000Z","model|llama-70b",2),
 {"ignore":["windows","balances"]}],
config='lateness = "0s"')

X="sha256:0a2f6ba7b3d49736"
scenario("revoked_suspended_expired_unmanaged_and_exposed_credentials",
"""revoked (severity 5) once per reason per day; not_yet_valid before
valid_from and expired at valid_until exactly (severity 4); suspended
(severity 4); a key with no entitlement is credential.unmanaged once a day;
a raw `sk-` secret is replaced by sha256:<first 16 hex of its SHA-256>
everywhere, fires credential.exposed (empty dedupe key), and is unmanaged.""",
[ev("e1","2026-01-01T10:00:00Z"), ev("e2","2026-01-01T11:00:00Z"), ev("e3","2026-01-02T10:00:00Z"),
 ev("e4","2026-01-03T10:00:00Z",cred="k2"), ev("e5","2026-01-10T00:00:00Z",cred="k2"), ev("e6","2026-01-10T01:00:00Z",cred="k3"),
 ev("e7","2026-01-10T02:00:00Z",cred="k4"), ev("e8","2026-01-10T03:00:00Z",cred="k4"), ev("e9","2026-01-10T04:00:00Z",cred="sk-abc123")],
[ent(status="revoked"), ent("k2",valid_from="2026-01-05T00:00:00Z",valid_until="2026-01-10T00:00:00Z"), ent("k3",status="suspended")],
[f("credential.revoked","2026-01-01T10:00:00.000Z","revoked|2026-01-01",5, reason="revoked"),
 f("credential.revoked","2026-01-02T10:00:00.000Z","revoked|2026-01-02",5),
 f("credential.revoked","2026-01-03T10:00:00.000Z","not_yet_valid|2026-01-03",4,cred="k2", reason="not_yet_valid"),
 f("credential.revoked","2026-01-10T00:00:00.000Z","expired|2026-01-10",4,cred="k2", reason="expired"),
 f("credential.revoked","2026-01-10T01:00:00.000Z","suspended|2026-01-10",4,cred="k3", reason="suspended"),
 f("credential.unmanaged","2026-01-10T02:00:00.000Z","2026-01-10",3,cred="k4"),
 f("credential.exposed","2026-01-10T04:00:00.000Z","",5,cred=X),
 f("credential.unmanaged","2026-01-10T04:00:00.000Z","2026-01-10",3,cred=X),
 {"ignore":["windows","balances"]}],
config='lateness = "0s"')

scenario("burst_fires_then_stays_silent_for_one_window",
"""One rule: more than 2 calls in 1m (60 slices of 1 s). The third call at
00:00:20 fires (dedupe key: rule index 0, slice = epoch seconds). The fourth
at 00:00:30 is silent (until 00:01:20). At 00:01:25 the ring (slices
00:00:26..00:01:25) holds 2 calls; at 00:01:26 it holds 3: fires again. A
late call at 00:00:05 is older than the ring and ignored by the rule.""",
[ev("e1","2026-01-01T00:00:00Z"), ev("e2","2026-01-01T00:00:10Z"), ev("e3","2026-01-01T00:00:20Z"), ev("e4","2026-01-01T00:00:30Z"),
 ev("e5","2026-01-01T00:01:25Z"), ev("e6","2026-01-01T00:01:26Z"), ev("e7","2026-01-01T00:00:05Z")],
[ent(burst=[{"window":"1m","calls":2}])],
[f("burst","2026-01-01T00:00:20.000Z","0|1767225620",3, sum_calls=3, limit_calls=2, exceeded=["calls"]),
 f("burst","2026-01-01T00:01:26.000Z","0|1767225686",3, sum_calls=3),
 {"ignore":["windows","balances"]}],
config='lateness = "0s"')

scenario("duplicates_late_events_and_two_window_sizes",
"""An id seen again while remembered is dropped (even 1.5 h later in event
time, because the watermark has not passed first time + 1h); once the
watermark passes it, the id is accepted again. A late event (its 1m window has
closed) is added to its still-open 1h window only. Windows close when the
watermark reaches their end, in time order; end of input closes the rest.""",
[ev("e1","2026-01-01T10:00:30Z",model="m1",credits="1"), ev("e1","2026-01-01T10:00:40Z",credits="100"), ev("e3","2026-01-01T10:01:10Z",model="m1",credits="2"),
 ev("e4","2026-01-01T10:00:50Z",cap="embeddings",model="m2",credits="3",tokens_in=5), ev("e1","2026-01-01T11:30:00Z",credits="100"),
 ev("e6","2026-01-01T11:30:01Z",credits="0.5"), ev("e1","2026-01-01T11:30:02Z",credits="0.25",tokens_out=7)],
[ent()],
[win("k1","1m","2026-01-01T10:00:00.000Z","2026-01-01T10:01:00.000Z",1,"1",{"chat":1},1),
 win("k1","1m","2026-01-01T10:01:00.000Z","2026-01-01T10:02:00.000Z",1,"2",{"chat":1},1),
 win("k1","1h","2026-01-01T10:00:00.000Z","2026-01-01T11:00:00.000Z",3,"6",{"chat":2,"embeddings":1},2,tin=5),
 win("k1","1m","2026-01-01T11:30:00.000Z","2026-01-01T11:31:00.000Z",2,"0.75",{"chat":2},0,tout=7),
 win("k1","1h","2026-01-01T11:00:00.000Z","2026-01-01T12:00:00.000Z",2,"0.75",{"chat":2},0,tout=7)],
config='lateness = "0s"\nwindows = ["1m", "1h"]')

scenario("malformed_lines_are_rejected_with_the_first_kind_that_applies",
"""Each kind of malformed line, with its physical line number; the blank line
is no record, and so is one of tabs and spaces, but whitespace outside JSON's
(a form feed) makes a record: invalid_json. A line over max_value_bytes that is also not JSON is too_large
(checked first); an `id` of the wrong type is invalid_field even though `time`
is missing (fields in table order, missing before invalid per field).
The one valid record is an unmanaged credential.""",
["this is not json", "[1, 2]",
 '{"specversion":"0.3","id":"x","source":"s","type":"t","subject":"k1","time":"2026-01-01T00:00:00Z","data":{"capability":"chat","credits":1}}',
 '{"time":"2026-01-01T00:00:00Z","credential":"k1","capability":"chat","credits":1}',
 '{"id":"a","time":"2026-13-01T00:00:00Z","credential":"k1","capability":"chat","credits":1}',
 '{"id":"big","padding":"' + "x"*300 + '", not json',
 '{"id":5,"credential":"k1","capability":"chat","credits":-1}',
 ev("ok","2026-01-01T00:00:00Z"), "   ",
 '{"id":"b","time":"2026-01-01T00:00:00Z","credential":"k1","capability":"chat","credits":"1e3"}',
 '{"id":"c","time":"2026-01-01T00:00:00Z","credential":"k1","capability":"chat","credits":1,"tokens_in":1.5}',
 '{"id":"d","time":"2026-01-01T00:00:00Z","credential":"k1","capability":"chat","credits":1,"model":' + '"' + "m"*129 + '"}', " \t ", "\f"],
[],
[f("credential.unmanaged","2026-01-01T00:00:00.000Z","2026-01-01",3),
 {"rejected":{"line":1,"kind":"invalid_json","offset":0}}, {"rejected":{"line":2,"kind":"invalid_json"}}, {"rejected":{"line":3,"kind":"invalid_cloudevent"}},
 {"rejected":{"line":4,"kind":"missing_field"}}, {"rejected":{"line":5,"kind":"invalid_field"}}, {"rejected":{"line":6,"kind":"too_large"}},
 {"rejected":{"line":7,"kind":"invalid_field"}}, {"rejected":{"line":10,"kind":"invalid_field","offset":8}}, {"rejected":{"line":11,"kind":"invalid_field"}},
 {"rejected":{"line":12,"kind":"invalid_field"}}, {"rejected":{"line":14,"kind":"invalid_json","offset":11}},
 {"ignore":["windows","balances"]}],
config='lateness = "0s"\nmax_value_bytes = 300')

scenario("a_structured_cloudevent_is_read_like_a_native_event",
"""A structured CloudEvent: envelope id and time, subject = credential, the
usage fields in data (data's own credential is ignored). It is counted in the
windows like a native event; `data_base64` instead of data is refused.""",
['{"specversion":"1.0","id":"ce-1","source":"gw","type":"ai.usage","subject":"k1","time":"2026-01-01T10:00:00Z","data":{"capability":"chat","model":"m1","credits":"2.5","credential":"other"}}',
 ev("n1","2026-01-01T10:00:10Z",credits="0.5"),
 '{"specversion":"1.0","id":"ce-2","source":"gw","type":"ai.usage","subject":"k1","time":"2026-01-01T10:00:20Z","data_base64":"e30="}'],
[ent()],
[win("k1","1m","2026-01-01T10:00:00.000Z","2026-01-01T10:01:00.000Z",2,"3",{"chat":2},1),
 {"rejected":{"line":3,"kind":"invalid_cloudevent"}}, {"ignore":["balances"]}],
config='lateness = "0s"\nwindows = ["1m"]')

scenario("ledger_starts_at_valid_from_and_accumulation_fires_at_each_month_start",
"""The first booked event (Jan 15) opens the ledger in the month of
valid_from (October), with no balance record, then rolls it over Nov, Dec, Jan
(bank_months 3: nothing expires). At each month start the banked remainder is
checked against 2.0 x the new month's grant: 100 (Nov) no, 200 (Dec) and 300
(Jan) yes, each banking.accumulation at the month start before its balance
record. The never-seen key's last activity is its valid_from: 106 days >= 90d,
so dormant.reactivated fires first (rule order), before the roll's findings.""",
[ev("e1","2026-01-15T00:00:00Z",credits="1")],
[ent(updated_at="2025-10-01T00:00:00Z", valid_from="2025-10-01T00:00:00Z", credits={"monthly":"100","bank_months":3})],
[f("dormant.reactivated","2026-01-15T00:00:00.000Z","1759276800000",3, gap_days=106),
 f("banking.accumulation","2025-12-01T00:00:00.000Z","2025-12",2, banked="200", monthly="100"),
 f("banking.accumulation","2026-01-01T00:00:00.000Z","2026-01",2, banked="300"),
 {"ignore":["windows"]},
 bal("k1","2025-11-01T00:00:00.000Z","2025-11","200","100","0","0","200","0","200","0","0",[G("2025-10","100","100","2026-02-01T00:00:00.000Z"),G("2025-11","100","100","2026-03-01T00:00:00.000Z")]),
 bal("k1","2025-12-01T00:00:00.000Z","2025-12","300","200","0","0","300","0","300","0","0",[G("2025-10","100","100","2026-02-01T00:00:00.000Z"),G("2025-11","100","100","2026-03-01T00:00:00.000Z"),G("2025-12","100","100","2026-04-01T00:00:00.000Z")]),
 bal("k1","2026-01-01T00:00:00.000Z","2026-01","400","300","0","0","400","0","400","0","0",[G("2025-10","100","100","2026-02-01T00:00:00.000Z"),G("2025-11","100","100","2026-03-01T00:00:00.000Z"),G("2025-12","100","100","2026-04-01T00:00:00.000Z"),G("2026-01","100","100","2026-05-01T00:00:00.000Z")]),
 bal("k1","2026-01-15T00:00:00.000Z","2026-01","400","300","1","1","399","0","400","1","0",[G("2025-10","100","99","2026-02-01T00:00:00.000Z"),G("2025-11","100","100","2026-03-01T00:00:00.000Z"),G("2025-12","100","100","2026-04-01T00:00:00.000Z"),G("2026-01","100","100","2026-05-01T00:00:00.000Z")]),
],
config='lateness = "0s"\nwindows = ["1d"]')

scenario("the_watermark_crossing_a_month_rolls_every_ledger_of_the_partition",
"""k1 and k2 book credits in January (use-it-or-lose-it). k3's event on Feb 3
moves the watermark: first k1's 1d window closes (Jan 12, with a balance
record), then the Feb 1 month start rolls every ledger of the partition in
credential order (k1, k2): January's remainders expire, February's grant is
issued, one balance record each as_of Feb 1. End of input: per credential in
order, open windows then the final balance (as_of the greatest event time).""",
[ev("e1","2026-01-10T00:00:00Z",cred="k2",credits="1"), ev("e2","2026-01-11T00:00:00Z",credits="2"), ev("e3","2026-02-03T00:00:00Z",cred="k3",credits="0")],
[ent(credits={"monthly":"10"}), ent("k2",credits={"monthly":"10"}), ent("k3")],
[win("k2","1d","2026-01-10T00:00:00.000Z","2026-01-11T00:00:00.000Z",1,"1",{"chat":1},0),
 win("k1","1d","2026-01-11T00:00:00.000Z","2026-01-12T00:00:00.000Z",1,"2",{"chat":1},0),
 win("k3","1d","2026-02-03T00:00:00.000Z","2026-02-04T00:00:00.000Z",1,"0",{"chat":1},0),
 bal("k2","2026-01-11T00:00:00.000Z","2026-01","10","0","1","0","9","0","10","1","0",[G("2026-01","10","9","2026-02-01T00:00:00.000Z")]),
 bal("k1","2026-01-12T00:00:00.000Z","2026-01","10","0","2","0","8","0","10","2","0",[G("2026-01","10","8","2026-02-01T00:00:00.000Z")]),
 bal("k1","2026-02-01T00:00:00.000Z","2026-02","10","0","0","0","10","0","20","2","8",[G("2026-02","10","10","2026-03-01T00:00:00.000Z")]),
 bal("k2","2026-02-01T00:00:00.000Z","2026-02","10","0","0","0","10","0","20","1","9",[G("2026-02","10","10","2026-03-01T00:00:00.000Z")]),
 bal("k1","2026-02-03T00:00:00.000Z","2026-02","10","0","0","0","10","0","20","2","8",[G("2026-02","10","10","2026-03-01T00:00:00.000Z")]),
 bal("k2","2026-02-03T00:00:00.000Z","2026-02","10","0","0","0","10","0","20","1","9",[G("2026-02","10","10","2026-03-01T00:00:00.000Z")]),
],
config='lateness = "0s"\nwindows = ["1d"]')
G=lambda m,a,r,x:(m,a,r,x)
st=lambda as_of, **k: None
J="2026-01"; A1="2026-04-01T00:00:00.000Z"; M1="2026-05-01T00:00:00.000Z"; U1="2026-06-01T00:00:00.000Z"
mar=lambda as_of: bal("k1",as_of,"2026-03","250","150","0","0","250","0","300","0","50",[G("2026-01","100","50",A1),G("2026-02","100","100",M1),G("2026-03","100","100",U1)])
plan={"monthly":"100","bank_months":2,"bank_cap":"150"}
scenario("versions_join_by_event_time_tombstones_remove_and_bank_cap_forfeits_oldest",
"""Versions are joined by event time: in January k1 may only chat, so image
violates scope; from Feb 1 two versions share an updated_at and the one read
later (chat and image) wins, so March's image is in scope and, never
remembered (a violation is not), fires scope.drift. At the March roll the
carried-over 200 exceeds bank_cap 150: the oldest (January) grant forfeits 50,
counted as expired. k9 was tombstoned: unmanaged.""",
[ev("e1","2026-01-10T00:00:00Z",credits="0"), ev("e2","2026-01-20T00:00:00Z",cap="image",credits="0"),
 ev("e3","2026-03-10T00:00:00Z",cap="image",credits="0"), ev("e4","2026-03-11T00:00:00Z",cred="k9",credits="0")],
[ent(scope={"capabilities":["chat"]},credits=plan), ent(updated_at="2026-02-01T00:00:00Z",scope={"capabilities":["image"]},credits=plan),
 ent(updated_at="2026-02-01T00:00:00Z",scope={"capabilities":["chat","image"]},credits=plan), ent("k9"), {"credential":"k9","tombstone":True}],
[f("scope.violation","2026-01-20T00:00:00.000Z","image||2026-01-20",4),
 f("scope.drift","2026-03-10T00:00:00.000Z","capability|image",2),
 f("credential.unmanaged","2026-03-11T00:00:00.000Z","2026-03-11",3,cred="k9"),
 {"ignore":["windows"]},
 bal("k1","2026-01-11T00:00:00.000Z",J,"100","0","0","0","100","0","100","0","0",[G(J,"100","100",A1)]),
 bal("k1","2026-02-01T00:00:00.000Z","2026-02","200","100","0","0","200","0","200","0","0",[G(J,"100","100",A1),G("2026-02","100","100",M1)]),
 mar("2026-03-01T00:00:00.000Z"), mar("2026-01-21T00:00:00.000Z"), mar("2026-03-11T00:00:00.000Z"), mar("2026-03-11T00:00:00.000Z")],
config='lateness = "0s"\nwindows = ["1d"]')

scenario("an_idle_timer_already_due_when_armed_fires_at_once",
"""No entitlements, default dormancy 90d and lateness 30s. k2 on June 1 moves
the watermark to May 31 23:59:30. k1's first event is late, on January 1: its
idle timer is due on April 1, which the watermark already passed, so it fires
at that record (it fires when the watermark >= due, at step 4), after the
event's own credential.unmanaged, with the due instant as its time. It does
not wait for the watermark to move again: here it never does, and timers do
not fire at end of input.""",
[ev("a","2026-06-01T00:00:00Z",cred="k2"), ev("b","2026-01-01T00:00:00Z")],
[],
[f("credential.unmanaged","2026-06-01T00:00:00.000Z","2026-06-01",3,cred="k2"),
 f("credential.unmanaged","2026-01-01T00:00:00.000Z","2026-01-01",3),
 f("dormant.idle","2026-04-01T00:00:00.000Z","1767225600000",1, due="2026-04-01T00:00:00.000Z", dormancy="90d"),
 {"ignore":["windows","balances"]}])

scenario("once_a_day_is_remembered_per_reason",
"""k1 has no entitlement until it is revoked on January 3. Its January 1 use
is credential.unmanaged (day 2026-01-01); its January 6 use is
credential.revoked (reason revoked, day 2026-01-06). A late use on January 1
is unmanaged again on a day already reported: no finding. Each reason
remembers its own newest two days (once per reason per day), so the
revoked day does not push the unmanaged day out.""",
[ev("e1","2026-01-01T00:00:00Z"), ev("e2","2026-01-06T00:00:00Z"), ev("e3","2026-01-01T01:00:00Z")],
[ent(updated_at="2026-01-03T00:00:00Z", status="revoked")],
[f("credential.unmanaged","2026-01-01T00:00:00.000Z","2026-01-01",3),
 f("credential.revoked","2026-01-06T00:00:00.000Z","revoked|2026-01-06",5, reason="revoked"),
 {"ignore":["windows","balances"]}])

scenario("a_zero_learning_period_learns_nothing",
"""learning_period = "0ms": learning is [first event, first event + 0), empty,
so the credential's very first event already fires scope.drift for its
capability, and the next event at the same instant for its new one
No entitlement: unmanaged, everything in scope.""",
[ev("a","2026-01-01T00:00:00Z"), ev("b","2026-01-01T00:00:00Z",cap="embeddings")],
[],
[f("credential.unmanaged","2026-01-01T00:00:00.000Z","2026-01-01",3),
 f("scope.drift","2026-01-01T00:00:00.000Z","capability|chat",2, dimension="capability", value="chat"),
 f("scope.drift","2026-01-01T00:00:00.000Z","capability|embeddings",2, dimension="capability", value="embeddings"),
 {"ignore":["windows","balances"]}],
config='learning_period = "0ms"')
