#!/usr/bin/env python3
"""Writes examples/entitlements.jsonl and examples/usage.jsonl: a small, readable
story in which every bursar rule fires. Deterministic (seeded)."""
import json, random, datetime as dt, sys

R = random.Random(2026)
UTC = dt.timezone.utc
def T(s): return dt.datetime.fromisoformat(s.replace("Z", "+00:00"))
def iso(t, millis=True):
    s = t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    if millis and t.microsecond: s += ".%03d" % (t.microsecond // 1000)
    return s + "Z"

ents = []
def ent(**kw):
    ents.append(json.dumps(kw, separators=(", ", ": ")))

ML_SCOPE = {"capabilities": ["chat", "embeddings"], "models": ["llama-*", "qwen-*", "text-embedding-*"]}
# The batch key may only be used from the ML cluster's network.
ML_BATCH_SCOPE = dict(ML_SCOPE, networks=["10.30.0.0/16", "2001:db8:30::/48"])
# The support bot's key belongs to the support namespace's workloads.
SUPPORT_SCOPE = {"capabilities": ["chat"], "models": ["gpt-4o*", "llama-3-*"], "principals": ["spiffe://prod/ns/support/*"]}
ent(credential="key_ml_batch", owner="team-ml@example.com", status="active", updated_at="2025-12-15T00:00:00Z",
    valid_from="2025-12-15T00:00:00Z", scope=ML_BATCH_SCOPE,
    credits={"monthly": "1000", "bank_months": 3}, burst=[{"window": "1h", "credits": "400"}], dormancy="60d")
ent(credential="key_support_bot", owner="team-support@example.com", status="active", updated_at="2025-12-20T00:00:00Z",
    valid_from="2025-12-20T00:00:00Z", valid_until="2026-12-20T00:00:00Z", scope=SUPPORT_SCOPE,
    credits={"monthly": "300", "bank_months": 0}, burst=[{"window": "5m", "calls": 40}, {"window": "1m", "tokens": 200000}], dormancy="30d")
ent(credential="key_support_bot", owner="team-support@example.com", status="active", updated_at="2026-04-01T00:00:00Z",
    valid_from="2025-12-20T00:00:00Z", valid_until="2026-12-20T00:00:00Z", scope=SUPPORT_SCOPE,
    credits={"monthly": "600", "bank_months": 0}, burst=[{"window": "5m", "calls": 80}, {"window": "1m", "tokens": 200000}], dormancy="30d")
ent(credential="key_search_indexer", owner="team-search@example.com", status="active", updated_at="2025-12-01T00:00:00Z",
    scope={"capabilities": ["search", "embeddings"]}, credits={"monthly": "200"}, max_principals=4, max_source_ips=4)
ent(credential="key_legacy_etl", owner="data-eng@example.com", status="active", updated_at="2025-12-10T00:00:00Z",
    valid_from="2025-12-10T00:00:00Z", scope={"capabilities": ["chat", "embeddings"], "models": ["llama-*"]},
    credits={"monthly": "100"}, dormancy="30d")
ent(credential="key_contractor_acme", owner="vendor-mgmt@example.com", status="active", updated_at="2025-12-28T00:00:00Z",
    valid_from="2026-01-05T00:00:00Z", valid_until="2026-03-01T00:00:00Z", scope={"capabilities": ["chat"], "models": ["llama-*"]})
ent(credential="key_intern_2025", owner="team-ml@example.com", status="active", updated_at="2025-09-01T00:00:00Z",
    scope=ML_SCOPE)
ent(credential="key_intern_2025", owner="team-ml@example.com", status="revoked", updated_at="2026-02-15T00:00:00Z",
    scope=ML_SCOPE)
ent(credential="key_partner_beta", owner="partnerships@example.com", status="active", updated_at="2025-12-01T00:00:00Z",
    credits={"monthly": "400", "bank_months": 1, "bank_cap": "200"})
ent(credential="key_partner_beta", owner="partnerships@example.com", status="suspended", updated_at="2026-03-10T00:00:00Z",
    credits={"monthly": "400", "bank_months": 1, "bank_cap": "200"})
ent(credential="key_partner_beta", owner="partnerships@example.com", status="active", updated_at="2026-03-17T00:00:00Z",
    credits={"monthly": "400", "bank_months": 1, "bank_cap": "200"})
ent(credential="key_retired_poc", owner="team-ml@example.com", status="active", updated_at="2025-11-01T00:00:00Z")
ents.append(json.dumps({"credential": "key_retired_poc", "tombstone": True}, separators=(", ", ": ")))

events = []  # (time, credential, capability, model, credits, extra)
def ev(t, cred, cap, model, credits, tin=0, tout=0, **extra):
    events.append([t, cred, cap, model, credits, tin, tout, extra])

def days(a, b):
    d = T(a)
    while d < T(b):
        yield d
        d += dt.timedelta(days=1)

def at(day, h0, h1):
    return day + dt.timedelta(seconds=R.randrange(h0 * 3600, h1 * 3600), milliseconds=R.randrange(1000))

def money(lo, hi, digits=2):
    return round(R.uniform(lo, hi), digits)

# key_support_bot: ~6 chats a day; a retry loop on Feb 12; gpt-4o from Jan 20 (drift);
# a March campaign doubles traffic (threshold, overdraft); April gets a bigger grant.
for d in days("2026-01-01T00:00:00Z", "2026-05-01T00:00:00Z"):
    n = 6 + (8 if d.month == 3 else 0)
    for _ in range(n):
        model = R.choice(["gpt-4o-mini", "gpt-4o-mini", "llama-3-8b"])
        if d >= T("2026-01-20T00:00:00Z") and R.random() < 0.2:
            model = "gpt-4o"
        ev(at(d, 8, 20), "key_support_bot", "chat", model, money(0.4, 1.6, R.choice([2, 3, 7])),
           R.randrange(200, 3000), R.randrange(50, 800), principal="spiffe://prod/ns/support/sa/helpdesk-bot", source="gw-eu-1", src_ip="10.20.1.15")
# A marketing workload borrows the support bot's key for a March campaign (scope.principal, once a day).
for d in days("2026-03-10T00:00:00Z", "2026-03-13T00:00:00Z"):
    for _ in range(3):
        ev(at(d, 9, 17), "key_support_bot", "chat", "gpt-4o-mini", money(0.4, 1.6), R.randrange(200, 3000), R.randrange(50, 800),
           principal="spiffe://prod/ns/marketing/sa/campaign-gen", source="gw-eu-1", src_ip="10.20.9.40")
loop = T("2026-02-12T14:03:00Z")
for i in range(60):
    ev(loop + dt.timedelta(seconds=i * 3, milliseconds=R.randrange(1000)), "key_support_bot", "chat", "gpt-4o-mini", 0.05,
       R.randrange(2000, 2500), 0, principal="spiffe://prod/ns/support/sa/helpdesk-bot", source="gw-eu-1", src_ip="10.20.1.15")

# key_ml_batch: one nightly embeddings job Jan-Mar (credits pile up), then an April backfill.
for d in days("2026-01-01T00:00:00Z", "2026-04-06T00:00:00Z"):
    ev(at(d, 2, 3), "key_ml_batch", "embeddings", "text-embedding-3-small", money(2.5, 3.5), R.randrange(50000, 90000), 0,
       principal="spiffe://prod/ns/ml/sa/nightly-embed", source="gw-us-1", src_ip="10.30.4.2")
bf = T("2026-04-06T02:00:00Z")
for i in range(130):
    ev(bf + dt.timedelta(minutes=2 * i, seconds=R.randrange(60)), "key_ml_batch", "embeddings", "text-embedding-3-small",
       str(money(24, 26, 4)), R.randrange(150000, 250000), 0, principal="spiffe://prod/ns/ml/sa/reindex-backfill", source="gw-us-1", src_ip="10.30.77.9")
# The April backfill runs on a new subnet of the ML cluster (scope.drift, network 10.30.77.0/24);
# one nightly run on Mar 14 came from outside the cluster (scope.network).
ev(T("2026-03-14T02:41:07.250Z"), "key_ml_batch", "embeddings", "text-embedding-3-small", 3.1, 61000, 0,
   principal="spiffe://prod/ns/ml/sa/nightly-embed", source="gw-us-1", src_ip="203.0.113.77")

# key_search_indexer: search all day; someone borrows it for chat and images.
for d in days("2026-01-01T00:00:00Z", "2026-05-01T00:00:00Z"):
    for _ in range(3):
        ev(at(d, 0, 24), "key_search_indexer", "search", None, money(0.2, 0.8), source="gw-us-1", src_ip="10.40.0.7")
# Apr 20: the indexer is scaled out to a dozen pods that all share the one key (credential.shared,
# by principal and by source address: the entitlement allows 4 of each a day).
for pod in range(12):
    for k in range(2):
        ev(T("2026-04-20T09:00:00Z") + dt.timedelta(minutes=pod * 5 + k * 31, milliseconds=R.randrange(1000)), "key_search_indexer", "search", None,
           money(0.2, 0.8), principal="spiffe://prod/ns/search/sa/indexer-%d" % pod, source="gw-us-1", src_ip="10.40.0.%d" % (20 + pod))
ev(T("2026-02-03T11:15:42.120Z"), "key_search_indexer", "chat", "gpt-4o", 1.25, 900, 300, principal="user:alice@example.com", src_ip="10.40.9.31", source="gw-us-1")
ev(T("2026-02-03T11:19:05.800Z"), "key_search_indexer", "chat", "gpt-4o", 1.1, 700, 250, principal="user:alice@example.com", src_ip="10.40.9.31", source="gw-us-1")
ev(T("2026-03-09T16:40:00.000Z"), "key_search_indexer", "image", "sdxl-1.0", 4, principal="user:alice@example.com", src_ip="10.40.9.31", source="gw-us-1")

# key_legacy_etl: nightly until Jan 20, silent (dormant.idle in Feb), back on Mar 25 (dormant.reactivated).
for d in list(days("2026-01-01T00:00:00Z", "2026-01-21T00:00:00Z")) + list(days("2026-03-25T00:00:00Z", "2026-03-30T00:00:00Z")):
    ev(at(d, 3, 4), "key_legacy_etl", "chat", "llama-3-70b", money(0.8, 1.2), R.randrange(1000, 3000), R.randrange(100, 500),
       principal="cron@etl-01", source="gw-eu-1", src_ip="10.50.2.2")

# key_contractor_acme: starts before its valid_from and keeps going after valid_until.
for d in days("2026-01-03T00:00:00Z", "2026-03-05T00:00:00Z"):
    for _ in range(2):
        ev(at(d, 9, 17), "key_contractor_acme", "chat", "llama-3-70b", money(0.5, 2), R.randrange(500, 2000), R.randrange(100, 600),
           principal="contractor:bob@acme.example", source="gw-eu-1", src_ip="198.51.100.23")

# key_intern_2025: a forgotten cron keeps calling after the key was revoked on Feb 15.
for d in days("2026-01-01T00:00:00Z", "2026-02-21T00:00:00Z"):
    ev(at(d, 6, 7), "key_intern_2025", "chat", "qwen-2-7b", money(0.1, 0.3), R.randrange(100, 400), R.randrange(50, 200),
       principal="user:intern-cron", source="gw-us-1", src_ip="10.30.8.44")

# key_partner_beta: steady partner traffic, including the week it was suspended.
for d in days("2026-01-01T00:00:00Z", "2026-05-01T00:00:00Z"):
    for _ in range(2):
        ev(at(d, 0, 24), "key_partner_beta", "chat", "mistral-large", money(0.8, 1.8), R.randrange(500, 1500), R.randrange(200, 700),
           principal="partner:beta", source="gw-ap-1", src_ip="203.0.113.50")

# key_shadow_it: a key nobody registered.
for d in days("2026-02-02T00:00:00Z", "2026-02-07T00:00:00Z"):
    for _ in range(2):
        ev(at(d, 10, 18), "key_shadow_it", "chat", "gpt-4o", money(1, 3), R.randrange(500, 1500), R.randrange(200, 700),
           principal="user:carol@example.com", source="gw-eu-1", src_ip="10.60.3.3")

# A misconfigured gateway logs the raw secret instead of the key id (fake, clearly not a real key).
for i in range(3):
    ev(T("2026-02-27T13:00:00Z") + dt.timedelta(minutes=7 * i), "sk-demo-NOTAREALKEY-0123456789abcdefghijklmnop", "chat", "gpt-4o-mini",
       0.6, 400, 120, principal="svc-legacy-proxy", source="gw-legacy", src_ip="10.99.0.5")

# key_retired_poc: its entitlement was tombstoned; one stray call.
ev(T("2026-01-12T15:30:00Z"), "key_retired_poc", "chat", "llama-3-8b", 0.4, 300, 100, source="gw-eu-1")

events.sort(key=lambda e: (e[0], e[1]))

def num_or_str(c):
    if isinstance(c, str): return json.dumps(c)
    if isinstance(c, int): return str(c)
    s = repr(c)
    return s if R.random() < 0.7 else json.dumps(s)

lines = []
n = 0
for t, cred, cap, model, credits, tin, tout, extra in events:
    n += 1
    eid = "evt-%05d" % n
    if cred == "key_partner_beta" and n % 5 == 0:
        data = {"capability": cap}
        if model: data["model"] = model
        data["credits"] = "@C@"
        if tin: data["tokens_in"] = tin; data["tokens_out"] = tout
        data.update(extra)
        ce = {"specversion": "1.0", "id": "ce-%05d" % n, "source": "//gateway/gw-ap-1", "type": "io.bursar.usage.v1",
              "subject": cred, "time": iso(t), "datacontenttype": "application/json", "data": data}
        line = json.dumps(ce, separators=(",", ":")).replace('"@C@"', num_or_str(credits))
    else:
        o = {"id": eid, "time": iso(t), "credential": cred, "capability": cap}
        if model: o["model"] = model
        o["credits"] = "@C@"
        if tin: o["tokens_in"] = tin; o["tokens_out"] = tout
        o.update(extra)
        line = json.dumps(o, separators=(",", ":")).replace('"@C@"', num_or_str(credits))
    lines.append(line)

def insert_after(pred, new_line):
    for i, l in enumerate(lines):
        if pred(l):
            lines.insert(i + 1, new_line)
            return
    raise SystemExit("no anchor for " + new_line)

# A gateway retry: the same event sent twice (dropped as a duplicate).
dup = next(l for l in lines if '"time":"2026-01-15' in l and "key_support_bot" in l)
insert_after(lambda l: l == dup, dup)
dup2 = next(l for l in lines if '"time":"2026-03-18' in l and "key_support_bot" in l)
insert_after(lambda l: l == dup2, dup2)
# A buffered event flushed 20 minutes late.
late_anchor = next(l for l in lines if '"time":"2026-02-18T1' in l)
insert_after(lambda l: l == late_anchor, '{"id":"evt-late-1","time":"2026-02-18T09:40:00.000Z","credential":"key_contractor_acme","capability":"chat","model":"llama-3-70b","credits":0.9,"tokens_in":800,"tokens_out":200,"source":"gw-eu-1","note":"flushed late by a gateway buffer"}')
# Records the decoder refuses (ai.usage.rejected).
bad = [
    ("2026-01-09T1", '{"id":"evt-bad-1","time":"2026-01-09T12:00:00Z","credential":"key_support_bot","capability":"chat","credits":'),
    ("2026-01-22T1", '{"id":"evt-bad-2","time":"2026-01-22T12:00:00Z","credential":"key_partner_beta","capability":"chat","model":"mistral-large"}'),
    ("2026-02-10T1", '{"id":"evt-bad-3","time":"2026-02-10T12:00:00Z","credential":"key_partner_beta","capability":"chat","credits":"-4.5"}'),
    ("2026-03-03T1", '{"id":"evt-bad-4","time":"2026-02-30T12:00:00Z","credential":"key_support_bot","capability":"chat","credits":1}'),
    ("2026-03-21T1", '{"specversion":"0.3","id":"ce-bad-5","source":"//gateway/gw-ap-1","type":"io.bursar.usage.v1","subject":"key_partner_beta","time":"2026-03-21T12:00:00Z","data":{"capability":"chat","credits":"2"}}'),
    ("2026-04-12T1", '{"id":"evt-bad-6","time":"2026-04-12T12:00:00Z","credential":"sk-demo-NOTAREALKEY-0123456789abcdefghijklmnop","capability":"chat","credits":"lots"}'),
]
for prefix, line in bad:
    anchor = next(l for l in lines if ('"time":"' + prefix) in l)
    insert_after(lambda l, a=anchor: l == a, line)

out = sys.argv[1]
open(out + "/entitlements.jsonl", "w").write("\n".join(ents) + "\n")
open(out + "/usage.jsonl", "w").write("\n".join(lines) + "\n")
print(len(ents), "entitlement lines,", len(lines), "usage lines")
