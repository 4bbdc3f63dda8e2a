# Writes the scenarios of the principal, network and shared-key rules (run
# from tests/scenarios). Every expected value here was derived by hand from
# docs/semantics.md, "Where and by whom a key is used"; see each README.md.
import os, sys
sys.path.insert(0, os.path.dirname(__file__))
from scenario import *

scenario("principal_scope_fires_once_a_day_and_a_break_blocks_drift",
"""k1 may be used by principals `svc-a*`; drift is on in all four dimensions
after a 1-day learning period. e1 learns chat, principal svc-a1 and network
10.0.0.0/24. e2 (svc-b) breaks the principal scope: scope.principal for
(svc-b, Jan 3); e3 is the same principal the same day: nothing. e4 is svc-b
on a new day with a new model: scope.principal again and no drift (an event
that breaks any scope dimension fires no drift and is remembered in none).
e5 (svc-a2, model m-new, 10.0.5.9) is in scope: drift in the order model,
principal, network (the /24 of the address). e6 breaks capability and
principal: scope.violation, and no second scope.principal for svc-b that
day. e7 has no principal and e8 an empty one (absent): neither is checked
against the principals; each fires drift for its new model only.""",
[ev("e1","2026-01-01T10:00:00Z",principal="svc-a1",src_ip="10.0.0.1"),
 ev("e2","2026-01-03T10:00:00Z",principal="svc-b",src_ip="10.0.0.1"),
 ev("e3","2026-01-03T11:00:00Z",principal="svc-b",src_ip="10.0.0.1"),
 ev("e4","2026-01-04T10:00:00Z",principal="svc-b",model="m-new",src_ip="10.0.0.1"),
 ev("e5","2026-01-04T12:00:00Z",principal="svc-a2",model="m-new",src_ip="10.0.5.9"),
 ev("e6","2026-01-04T13:00:00Z",cap="image",principal="svc-b",src_ip="10.0.0.1"),
 ev("e7","2026-01-04T14:00:00Z",model="m-other",src_ip="10.0.0.1"),
 ev("e8","2026-01-04T15:00:00Z",principal="",model="m-third",src_ip="10.0.0.1")],
[ent(scope={"capabilities":["chat"],"principals":["svc-a*"]})],
[f("scope.principal","2026-01-03T10:00:00.000Z","svc-b|2026-01-03",4, principal="svc-b", allowed=["svc-a*"], day="2026-01-03"),
 f("scope.principal","2026-01-04T10:00:00.000Z","svc-b|2026-01-04",4, principal="svc-b"),
 f("scope.drift","2026-01-04T12:00:00.000Z","model|m-new",2, dimension="model", value="m-new"),
 f("scope.drift","2026-01-04T12:00:00.000Z","principal|svc-a2",2, dimension="principal", value="svc-a2"),
 f("scope.drift","2026-01-04T12:00:00.000Z","network|10.0.5.0/24",2, dimension="network", value="10.0.5.0/24"),
 f("scope.violation","2026-01-04T13:00:00.000Z","image||2026-01-04",4, violated=["capability"]),
 f("scope.drift","2026-01-04T14:00:00.000Z","model|m-other",2),
 f("scope.drift","2026-01-04T15:00:00.000Z","model|m-third",2),
 {"ignore":["windows","balances"]}],
config='drift_dimensions = ["capability", "model", "principal", "network"]\nlearning_period = "1d"')

scenario("network_scope_reads_addresses_exactly",
"""k1 may be used from 10.0.0.0/8, 2001:db8::/32 and ::ffff:192.168.1.0/120
(an IPv4-mapped network with LEN >= 96 is the IPv4 network 192.168.1.0/24).
Drift only in the network dimension, with no learning period. In event
order: 10.1.2.3 is inside (drift 10.1.2.0/24); 010.1.2.3 has a leading zero,
so it is no address and lies outside every network; ::ffff:10.1.2.4 is the
IPv4 address 10.1.2.4, inside, in a /24 already seen; 192.168.1.77 is inside
the mapped network (drift 192.168.1.0/24); 2001:DB8:0:1::5 is inside (drift
of its /48 in RFC 5952 text, 2001:db8::/48); ::1.2.3.4 is IPv6 (not mapped),
outside; fe80::1%eth0 has a zone id: no address; 11.0.0.1 is outside, and
again the same day: nothing; an absent and an empty src_ip are not checked;
::ffff:192.168.2.1 is 192.168.2.1, outside. The dedupe key holds src_ip as
written.""",
[ev("a1","2026-02-01T01:00:00Z",src_ip="10.1.2.3"),
 ev("a2","2026-02-01T02:00:00Z",src_ip="010.1.2.3"),
 ev("a3","2026-02-01T03:00:00Z",src_ip="::ffff:10.1.2.4"),
 ev("a4","2026-02-01T04:00:00Z",src_ip="192.168.1.77"),
 ev("a5","2026-02-01T05:00:00Z",src_ip="2001:DB8:0:1::5"),
 ev("a6","2026-02-01T06:00:00Z",src_ip="::1.2.3.4"),
 ev("a7","2026-02-01T07:00:00Z",src_ip="fe80::1%eth0"),
 ev("a8","2026-02-01T08:00:00Z",src_ip="11.0.0.1"),
 ev("a9","2026-02-01T09:00:00Z",src_ip="11.0.0.1"),
 ev("a10","2026-02-01T10:00:00Z"),
 ev("a11","2026-02-01T11:00:00Z",src_ip=""),
 ev("a12","2026-02-01T12:00:00Z",src_ip="::ffff:192.168.2.1")],
[ent(scope={"networks":["10.0.0.0/8","2001:db8::/32","::ffff:192.168.1.0/120"]})],
[f("scope.drift","2026-02-01T01:00:00.000Z","network|10.1.2.0/24",2, value="10.1.2.0/24"),
 f("scope.network","2026-02-01T02:00:00.000Z","010.1.2.3|2026-02-01",4, src_ip="010.1.2.3", address=False, allowed=["10.0.0.0/8","2001:db8::/32","::ffff:192.168.1.0/120"]),
 f("scope.drift","2026-02-01T04:00:00.000Z","network|192.168.1.0/24",2, value="192.168.1.0/24"),
 f("scope.drift","2026-02-01T05:00:00.000Z","network|2001:db8::/48",2, value="2001:db8::/48"),
 f("scope.network","2026-02-01T06:00:00.000Z","::1.2.3.4|2026-02-01",4, address=True),
 f("scope.network","2026-02-01T07:00:00.000Z","fe80::1%eth0|2026-02-01",4, address=False),
 f("scope.network","2026-02-01T08:00:00.000Z","11.0.0.1|2026-02-01",4, address=True),
 f("scope.network","2026-02-01T12:00:00.000Z","::ffff:192.168.2.1|2026-02-01",4, address=True),
 {"ignore":["windows","balances"]}],
config='drift_dimensions = ["network"]\nlearning_period = "0ms"')

scenario("credential_shared_counts_the_distinct_values_of_the_newest_day",
"""k1's entitlement allows 2 principals a day; the config allows 2 source
addresses and 3 principals a day (used where the version in force sets no
limit, and for unmanaged k2). Jan 5, k1: A, B, then C makes 3 principals >
2: credential.shared (principal) with count 3 and the values in order of
first use; D is not added (the set already holds more than the limit) and
fires nothing more that day, but its address is the third: credential.shared
(source_ip). k2 (unmanaged): three src_ip strings, counted as written (not
addresses at all), fire source_ip at the third; its fourth principal fires
principal (limit 3). Jan 6, k1 starts new sets: E, F; a late event of Jan 5
(G) is ignored by the rule; G on Jan 6 makes 3 of each, and one event fires
both dimensions, principal first.""",
[ev("e1","2026-01-05T10:00:00Z",principal="A",src_ip="10.0.0.1"),
 ev("e2","2026-01-05T10:01:00Z",principal="B",src_ip="10.0.0.1"),
 ev("e3","2026-01-05T10:02:00Z",principal="C",src_ip="10.0.0.2"),
 ev("e4","2026-01-05T10:03:00Z",principal="D",src_ip="10.0.0.3"),
 ev("f1","2026-01-05T10:10:00Z",cred="k2",principal="X",src_ip="host-a"),
 ev("f2","2026-01-05T10:11:00Z",cred="k2",principal="Y",src_ip="host-b"),
 ev("f3","2026-01-05T10:12:00Z",cred="k2",principal="Z",src_ip="host-c"),
 ev("f4","2026-01-05T10:13:00Z",cred="k2",principal="W",src_ip="host-a"),
 ev("e5","2026-01-06T10:00:00Z",principal="E",src_ip="10.0.0.5"),
 ev("e6","2026-01-06T10:01:00Z",principal="F",src_ip="10.0.0.6"),
 ev("e7","2026-01-05T23:00:00Z",principal="G",src_ip="10.0.0.7"),
 ev("e8","2026-01-06T10:02:00Z",principal="G",src_ip="10.0.0.7")],
[ent(max_principals=2)],
[f("credential.shared","2026-01-05T10:02:00.000Z","principal|2026-01-05",3, dimension="principal", limit=2, count=3, values=["A","B","C"], day="2026-01-05"),
 f("credential.shared","2026-01-05T10:03:00.000Z","source_ip|2026-01-05",3, dimension="source_ip", limit=2, count=3, values=["10.0.0.1","10.0.0.2","10.0.0.3"]),
 f("credential.unmanaged","2026-01-05T10:10:00.000Z","2026-01-05",3, cred="k2"),
 f("credential.shared","2026-01-05T10:12:00.000Z","source_ip|2026-01-05",3, cred="k2", limit=2, count=3, values=["host-a","host-b","host-c"]),
 f("credential.shared","2026-01-05T10:13:00.000Z","principal|2026-01-05",3, cred="k2", limit=3, count=4, values=["X","Y","Z","W"]),
 f("credential.shared","2026-01-06T10:02:00.000Z","principal|2026-01-06",3, values=["E","F","G"]),
 f("credential.shared","2026-01-06T10:02:00.000Z","source_ip|2026-01-06",3, values=["10.0.0.5","10.0.0.6","10.0.0.7"]),
 {"ignore":["windows","balances"]}],
config='max_principals = 3\nmax_source_ips = 2')

scenario("an_invalid_network_makes_the_whole_entitlement_invalid",
"""k1's only entitlement lists `10.0.0.0/08`: a prefix length with a leading
zero is no CIDR, so the record is skipped whole (line 1) and k1's use is
credential.unmanaged. k2's entitlement is valid; its `/0` network holds
every IPv4 address, and a bare address is a /32. k2's use from 10.9.9.9 is
in scope. k3 may be used from the one address 192.0.2.7 (a /32) and an
IPv6 range: its use from 192.0.2.1 lies outside both, from 192.0.2.7 inside.""",
[ev("e1","2026-03-01T00:00:00Z",src_ip="10.1.1.1"),
 ev("e2","2026-03-01T01:00:00Z",cred="k2",src_ip="10.9.9.9"),
 ev("e3","2026-03-01T02:00:00Z",cred="k3",src_ip="192.0.2.1"),
 ev("e4","2026-03-01T03:00:00Z",cred="k3",src_ip="192.0.2.7")],
[ent(scope={"networks":["10.0.0.0/8","10.0.0.0/08"]}),
 ent(cred="k2",scope={"networks":["0.0.0.0/0"]}),
 ent(cred="k3",scope={"networks":["192.0.2.7","2001:db8::/32"]})],
[{"skipped_entitlements":[1]},
 f("credential.unmanaged","2026-03-01T00:00:00.000Z","2026-03-01",3),
 f("scope.network","2026-03-01T02:00:00.000Z","192.0.2.1|2026-03-01",4, cred="k3", allowed=["192.0.2.7","2001:db8::/32"]),
 {"ignore":["windows","balances"]}])
