import json, os, sys
def scenario(name, readme, usage, ents, expected, config=""):
    os.makedirs(name, exist_ok=True)
    open(f"{name}/README.md","w").write(readme.strip()+"\n")
    open(f"{name}/usage.jsonl","w").write("".join((u if isinstance(u,str) else json.dumps(u))+"\n" for u in usage))
    if ents: open(f"{name}/entitlements.jsonl","w").write("".join(json.dumps(e)+"\n" for e in ents))
    if config: open(f"{name}/config.toml","w").write(config.strip()+"\n")
    open(f"{name}/expected.jsonl","w").write("".join(json.dumps(x)+"\n" for x in expected))
def ev(i, t, cred="k1", cap="chat", credits="1", **kw):
    d={"id":i,"time":t,"credential":cred,"capability":cap,"credits":credits}; d.update(kw); return d
def ent(cred="k1", **kw):
    d={"credential":cred,"owner":f"{cred}@example.com","updated_at":"2026-01-01T00:00:00Z"}; d.update(kw); return d
def f(rule, t, key, sev, cred="k1", **fig):
    d={"rule":rule,"credential":cred,"time":t,"dedupe_key":key,"severity":sev}
    if fig: d["figures"]=fig
    return {"finding":d}
def bal(cred, as_of, month, avail, banked, used, used_banked, remaining, overage, granted, burned, expired, grants):
    return {"balance":{"credential":cred,"as_of":as_of,"month":month,"available_at_start":avail,"banked_at_start":banked,"used":used,"used_banked":used_banked,"remaining":remaining,"overage":overage,"granted_total":granted,"burned_total":burned,"expired_total":expired,"grants":[{"month":m,"amount":a,"remaining":r,"expires":x} for (m,a,r,x) in grants]}}
def win(cred, size, start, end, calls, credits, caps, models, tin=0, tout=0):
    return {"window":{"credential":cred,"window":size,"start":start,"end":end,"calls":calls,"credits":credits,"tokens_in":tin,"tokens_out":tout,"capabilities":caps,"distinct_models":models}}
