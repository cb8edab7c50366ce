#!/usr/bin/python3
"""Writes the v2 logs test_explain_verdicts.c and test_explain_status.c read (stalled, saturated,
notconn, dupname, flapstall, stall_recovered) into the directory given: the scenarios in
code, so a change to one is reviewable. Usage: tests/unit/gen_verdict_logs.py tests/unit/data
stalled_v1.jsonl is stalled.jsonl as a v1 log:
  grep -v proc_sample stalled.jsonl | sed -e 's/"v":2/"v":1/' -e 's/,"exe":"[^"]*"//' \
      -e 's/,"arrived":[0-9]*,"drained":[0-9]*//g' > stalled_v1.jsonl"""
import json
import sys
BASE = "2026-11-24T10:%02d:%02d.%06dZ"
def ts(t):
    us = int(round(t * 1e6)); s = us // 1000000; return BASE % (s // 60, s % 60, us % 1000000)
def line(t, typ, **kw):
    d = {"v": 2, "type": typ, "ts": ts(t), "host": "web1"}
    d.update(kw); return d
def start():
    return line(0, "tracer_start", pid=900, version="0.1", kernel="6.1.0", schema=2,
                options={"redis": "redis://127.0.0.1:6379/0", "interval": 5}, clock_ticks=100,
                boot_id="b1")
def proc(t, typ, pid, worker, q, role="main", pool="prefork", conc=1, ppid=1, uid=33,
         argv=None, exe="/usr/bin/python3"):
    argv = argv or ["/usr/bin/python3", "/usr/bin/celery", "-A", "proj", "worker", "-n", worker,
                    "-Q", q, "-P", pool, "-c", str(conc)]
    return line(t, typ, pid=pid, pstart=pid + 100000, ppid=ppid,
                parent_pstart=(ppid + 100000 if ppid != 1 else None), uid=uid, comm="celery",
                argv=argv, cgroup="/celery", role=role, concurrency=conc, pool=pool,
                max_tasks_per_child=None, app="proj", command="worker", worker=worker,
                queues=[q], exe=exe)
def fork(t, pid, ppid, worker, q, pool="prefork", conc=1):
    return line(t, "fork", pid=pid, pstart=pid + 100000, ppid=ppid, parent_pstart=ppid + 100000,
                comm="celery", role="pool", worker=worker, queues=[q])
def exit_(t, pid, code=None, sig=None, role="main", worker=None, q=None, tail=None):
    return line(t, "exit", pid=pid, pstart=pid + 100000, ppid=1, comm="celery", exit_code=code,
                signal=sig, core_dumped=False, stderr_tail=tail, role=role, worker=worker,
                queues=[q] if q else None)
def sample(t, queues):
    return line(t, "sample", pid=900, redis_ok=True, queues=queues)
def qd(name, depth, arrived="absent", drained="absent"):
    d = {"queue": name, "depth": depth, "by_priority": {"0": depth}}
    if arrived != "absent": d["arrived"] = arrived
    if drained != "absent": d["drained"] = drained
    return d
def pentry(pid, cpu, ctx, state="S", conns=None, wchan=None, syscall=None, cmd=None, idle=None):
    e = {"pid": pid, "pstart": pid + 100000, "state": state, "cpu_ticks": cpu, "ctxsw": ctx,
         "broker_conns": conns}
    if wchan: e["wchan"] = wchan
    if syscall: e["syscall"] = syscall
    if cmd: e["conns"] = [{"laddr": "127.0.0.1:%d" % (40000 + pid % 1000), "idle_s": idle or 0, "cmd": cmd}]
    return e
def psample(t, procs, conn_known=True):
    return line(t + 0.001, "proc_sample", pid=900,
                broker={"addr": "127.0.0.1:6379", "conn_known": conn_known, "client_list": True},
                procs=procs)
def write(path, lines):
    lines.sort(key=lambda d: d["ts"])
    with open(path, "w") as f:
        for d in lines:
            f.write(json.dumps(d, separators=(",", ":")) + "\n")


D = sys.argv[1]

# stalled.jsonl: qs stalled (pool frozen from 85 s, depth flat 120); qp slow but progressing
# (cpu changes, depth flat 50); qi idle (no progress, depth 0)
L = [start()]
L += [proc(0.1, "scan", 7100, "w_s@web1", "qs", conc=2),
      proc(0.1, "scan", 7101, "w_s@web1", "qs", role="pool", conc=2, ppid=7100),
      proc(0.1, "scan", 7102, "w_s@web1", "qs", role="pool", conc=2, ppid=7100),
      proc(0.1, "scan", 7200, "w_p@web1", "qp"),
      proc(0.1, "scan", 7201, "w_p@web1", "qp", role="pool", ppid=7200),
      proc(0.1, "scan", 7300, "w_i@web1", "qi", pool="solo")]
for t in range(5, 125, 5):
    frozen = t > 85
    ds = min(120, t * 2) if t <= 60 else 120
    L.append(sample(t, [qd("qs", ds), qd("qp", 50), qd("qi", 0)]))
    c = 85 if frozen else t
    L.append(psample(t, [
        pentry(7100, 300 + t, 1000 + t, conns=1, cmd="brpop"),
        pentry(7101, 10 + c, 100 + c, conns=0, **({"wchan": "sk_wait_data", "syscall": "recvfrom"} if frozen else {})),
        pentry(7102, 20 + c, 200 + c, conns=0, **({"wchan": "sk_wait_data", "syscall": "recvfrom"} if frozen else {})),
        pentry(7200, 50 + t, 500 + t, conns=1, cmd="brpop"),
        pentry(7201, 1000 + 3 * t, 40, state="R", conns=0),
        pentry(7300, 77, 88, conns=1, cmd="brpop", idle=t, wchan="ep_poll", syscall="epoll_wait")]))
write(D + "/stalled.jsonl", L)

# saturated.jsonl: qa solo worker progressing, +20 in / +10 out every 5 s; qb without
# arrived/drained, +5 every 5 s; qc as qa but one sample in the last 30 s does not know them
L = [start()]
L += [proc(0.1, "scan", 7400, "w_a@web1", "qa", pool="solo"),
      proc(0.1, "scan", 7500, "w_b@web1", "qb", pool="solo"),
      proc(0.1, "scan", 7450, "w_c@web1", "qc", pool="solo")]
for t in range(5, 65, 5):
    L.append(sample(t, [qd("qa", 2 * t, 20, 10), qd("qb", t),
                        qd("qc", 2 * t, *((None, None) if t == 50 else (20, 10)))]))
    L.append(psample(t, [pentry(7400, 100 + 4 * t, 10 * t, state="R", conns=1),
                         pentry(7500, 100 + 4 * t, 10 * t, state="R", conns=1),
                         pentry(7450, 100 + 4 * t, 10 * t, state="R", conns=1)]))
write(D + "/saturated.jsonl", L)

# notconn.jsonl: qn: the real worker dies at 30 s, an impostor (a script called celery) never
# connects; qst: its worker exits at 85 s, a new one exec'd at 86 s is not connected yet at 100 s
L = [start()]
L += [proc(0.1, "scan", 7600, "w_n@web1", "qn", pool="solo"),
      proc(10, "exec", 7700, "w_n2@web1", "qn", pool="solo", uid=1000,
           argv=["/usr/bin/python3", "/tmp/x/celery", "-A", "x", "worker", "-n", "w_n2@web1",
                 "-Q", "qn"]),
      exit_(30, 7600, sig="SIGKILL", worker="w_n@web1", q="qn"),
      proc(0.1, "scan", 7801, "w_t@web1", "qst", pool="solo"),
      exit_(85, 7801, code=1, worker="w_t@web1", q="qst", tail="boom\n"),
      proc(86, "exec", 7800, "w_t@web1", "qst", pool="solo")]
for t in range(5, 105, 5):
    L.append(sample(t, [qd("qn", max(0, t - 30)), qd("qst", 3)]))
    ps = [pentry(7700, 5 + t, 5 + t, conns=0)] if t >= 10 else []
    if t < 30: ps.append(pentry(7600, t, t, conns=1))
    if t < 85: ps.append(pentry(7801, t, t, conns=1))
    if t > 86: ps.append(pentry(7800, t, t, conns=0))
    L.append(psample(t, ps))
write(D + "/notconn.jsonl", L)

# dupname.jsonl: two live mains named w_d@web1 (start_workers.sh ran twice); a clean restart
# of w_e@web1 (no overlap) is no duplicate
L = [start()]
L += [proc(0.1, "scan", 7900, "w_d@web1", "qd", pool="solo"),
      proc(20, "exec", 7901, "w_d@web1", "qd", pool="solo"),
      proc(0.1, "scan", 7950, "w_e@web1", "qe", pool="solo"),
      exit_(10, 7950, code=0, worker="w_e@web1", q="qe"),
      proc(11, "exec", 7951, "w_e@web1", "qe", pool="solo")]
for t in range(5, 65, 5):
    L.append(sample(t, [qd("qd", 0), qd("qe", 0)]))
    ps = [pentry(7900, t, t, conns=1)] + ([pentry(7901, t, t, conns=1)] if t > 20 else [])
    ps += [pentry(7950 if t < 10 else 7951, t, t, conns=1)]
    L.append(psample(t, ps))
write(D + "/dupname.jsonl", L)

# flapstall.jsonl: qf: three starts dying within a minute, then a fourth that lives and
# connects but whose pool is stuck for 40 s with tasks waiting: flapping, not stalled
L = [start()]
for k, t0 in enumerate((1, 11, 21)):
    pid = 8000 + k
    L += [proc(t0, "exec", pid, "w_f@web1", "qf"),
          exit_(t0 + 3, pid, code=2, worker="w_f@web1", q="qf",
                tail="ModuleNotFoundError: No module named 'app_typo'\n")]
L += [proc(31, "exec", 8010, "w_f@web1", "qf"), fork(32, 8011, 8010, "w_f@web1", "qf")]
for t in range(5, 125, 5):
    L.append(sample(t, [qd("qf", 40)]))
    if t > 32:
        c = 60 if t > 60 else t
        L.append(psample(t, [pentry(8010, t, t, conns=1),
                             pentry(8011, c, c, conns=0, **({"wchan": "pipe_read", "syscall": "read"} if t > 60 else {}))]))
write(D + "/flapstall.jsonl", L)

# stall_recovered.jsonl: both pool processes frozen from 20 s to 70 s while 100 tasks pile up,
# then they move again and the queue drains to 0 by 95 s
L = [start()]
L += [proc(0.1, "scan", 8100, "w_r@web1", "qr", conc=2),
      proc(0.1, "scan", 8101, "w_r@web1", "qr", role="pool", conc=2, ppid=8100),
      proc(0.1, "scan", 8102, "w_r@web1", "qr", role="pool", conc=2, ppid=8100)]
for t in range(5, 125, 5):
    d = 0 if t <= 20 else 2 * (t - 20) if t <= 70 else max(0, 100 - 4 * (t - 70))
    L.append(sample(t, [qd("qr", d)]))
    frozen = 20 < t < 70
    c = 20 if frozen else t
    L.append(psample(t, [pentry(8100, t, t, conns=1),
                         pentry(8101, c, c, conns=0, **({"wchan": "sk_wait_data", "syscall": "recvfrom"} if frozen else {})),
                         pentry(8102, c, c, conns=0, **({"wchan": "sk_wait_data", "syscall": "recvfrom"} if frozen else {}))]))
write(D + "/stall_recovered.jsonl", L)
