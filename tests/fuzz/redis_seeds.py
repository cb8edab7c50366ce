#!/usr/bin/python3
# Record a real redis-server's replies to the commands broker.c sends, as fuzz_broker seeds.
import socket, subprocess, time, os, sys, hashlib
PORT = 26399
OUT = 'tests/fuzz/corpus/fuzz_broker'
SEP = b'\x06\x16'
PW = b's3cr3t-Pw'

def resp(*args):
    out = b'*%d\r\n' % len(args)
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out += b'$%d\r\n%s\r\n' % (len(a), a)
    return out

def read_reply(f):
    line = f.readline()
    t = line[:1]
    raw = line
    if t in (b'+', b'-', b':'):
        return raw, line[1:-2]
    if t == b'$':
        n = int(line[1:-2])
        if n < 0: return raw, None
        data = f.read(n + 2); return raw + data, data[:-2]
    if t == b'*':
        n = int(line[1:-2]); items = []
        for _ in range(max(n, 0)):
            r, v = read_reply(f); raw += r; items.append(v)
        return raw, items
    raise Exception(line)

class Conn:
    def __init__(s):
        s.sock = socket.create_connection(('127.0.0.1', PORT)); s.f = s.sock.makefile('rb'); s.rec = b''
    def call(s, *cmds):
        s.sock.sendall(b''.join(resp(*c) for c in cmds))
        vals = []
        for _ in cmds:
            r, v = read_reply(s.f); s.rec += r; vals.append(v)
        return vals

def session(flags, password, db, prefix=b''):
    c = Conn()
    cmds = []
    if password is not None:
        cmds.append((b'AUTH', password))
    cmds.append((b'SELECT', str(db)))
    vals = c.call(*cmds)
    if any(isinstance(v, bytes) and (v.startswith(b'ERR') or v.startswith(b'NOAUTH') or v.startswith(b'WRONGPASS')) for v in vals):
        return c.rec
    keys = []; cursor = b'0'
    pat = b''.join((b'\\' + bytes([ch]) if bytes([ch]) in b'*?[]\\' else bytes([ch])) for ch in prefix) + b'_kombu.binding.*'
    while True:
        cur, ks = c.call((b'SCAN', cursor, b'MATCH', pat, b'COUNT', b'1000'))[0]
        keys += [k for k in ks if k[len(prefix) + 15:] not in (b'celery.pidbox', b'celeryev', b'reply.celery.pidbox')]
        cursor = cur
        if cursor == b'0': break
    keys = sorted(set(keys))
    found = set()
    if keys:
        for mem in c.call(*[(b'SMEMBERS', k) for k in keys]):
            if isinstance(mem, list):
                for m in mem:
                    parts = m.split(SEP)
                    if len(parts) == 3 and parts[2] and not parts[2].startswith(b'celeryev.') and not parts[2].endswith(b'.reply.celery.pidbox'):
                        found.add(parts[2])
    cfgq = [b'celery', b'low_priority', b'high' + SEP + b'q'][:(flags >> 3) & 3]
    names = sorted(found | set(cfgq))
    cmds = []
    for n in names:
        for step in (0, 3, 6, 9):
            cmds.append((b'LLEN', prefix + n + (SEP + str(step).encode() if step else b'')))
    cmds += [(b'HLEN', prefix + b'unacked'), (b'ZCARD', prefix + b'unacked_index')]
    c.call(*cmds)
    return c.rec

def populate(r, prefix=b''):
    r('FLUSHALL')
    for q in (b'celery', b'low_priority', b'high_priority'):
        r('SADD', prefix + b'_kombu.binding.' + q, q + SEP + SEP + q)
    r('SADD', prefix + b'_kombu.binding.celery.pidbox', b'' + SEP + SEP + b'w1@web1.celery.pidbox')
    r('SADD', prefix + b'_kombu.binding.celeryev', b'worker.#' + SEP + SEP + b'celeryev.1234')
    r('SADD', prefix + b'_kombu.binding.reply.celery.pidbox', b'abc' + SEP + SEP + b'abc.reply.celery.pidbox')
    for i in range(37): r('RPUSH', prefix + b'low_priority', b'{"body": "task %d"}' % i)
    r('RPUSH', prefix + b'low_priority' + SEP + b'3', b'x'); r('RPUSH', prefix + b'low_priority' + SEP + b'9', b'y')
    r('SET', prefix + b'high_priority', b'not a list')   # WRONGTYPE
    r('HSET', prefix + b'unacked', b'tag1', b'{}'); r('ZADD', prefix + b'unacked_index', 1, b'tag1')

def main():
    os.makedirs(OUT, exist_ok=True)
    srv = subprocess.Popen(['redis-server', '--port', str(PORT), '--save', '', '--appendonly', 'no'], stdout=subprocess.DEVNULL)
    try:
        time.sleep(0.5)
        admin = Conn(); r = lambda *a: admin.call(tuple(a))[0]
        seeds = {}
        populate(r)
        seeds['nopw-discover'] = bytes([0]) + session(0, None, 0)
        seeds['nopw-cfgq'] = bytes([0x18]) + session(0x18, None, 0)
        populate(r, b'pfx*?[')
        seeds['prefix'] = bytes([0x04 | 0x08]) + session(0x0c, None, 0, b'pfx*?[')
        r('SELECT', 3); populate(r); r('SELECT', 0)
        c = Conn(); c.call((b'SELECT', b'99')); seeds['select-err'] = bytes([0]) + c.rec
        r('CONFIG', 'SET', 'requirepass', PW)
        admin.call((b'AUTH', PW))
        seeds['pw-discover'] = bytes([0x01]) + session(0x01, PW, 3)
        c = Conn(); c.call((b'AUTH', b'wrong'), (b'SELECT', b'3')); seeds['wrongpass'] = bytes([0x01]) + c.rec
        c = Conn(); c.call((b'SELECT', b'0')); seeds['noauth'] = bytes([0]) + c.rec
        r('ACL', 'SETUSER', 'celery', 'on', b'>' + PW, '~*', '+@all')
        c = Conn(); c.call((b'AUTH', b'celery', PW), (b'SELECT', b'3')); seeds['acl-user'] = bytes([0x03]) + c.rec
        for k, v in seeds.items():
            if len(v) > 1:
                open(f'{OUT}/{k}', 'wb').write(v)
    finally:
        srv.terminate(); srv.wait()
main()
