"""A scripted fake Redis for fault tests: speaks just enough RESP for what celerywatch's sampler
sends (AUTH, SELECT, SCAN, SMEMBERS, LLEN, HLEN, ZCARD), and misbehaves on cue.

A fault is armed for the next connection(s) or the next command of a given name, and is used
up when it fires; after that the server is well-behaved again, so a test can watch the
recorder fail, report it, and recover. Runs in threads of the test process (no child to kill).
"""
import socket
import threading
import time

SEP = b"\x06\x16"


def bulk(b):
    return b"$%d\r\n%s\r\n" % (len(b), b)


def array(items):
    return b"*%d\r\n" % len(items) + b"".join(items)


class Fault:
    """on: a command name (b"SMEMBERS"), or None for 'as soon as a connection sends anything'.
    kind:
      die       reply to `after` commands named `on` (in the pipeline that holds them), then
                close the connection (a broker killed mid-pipeline)
      raw       reply `data` (bytes) to the command instead of its real reply, then go on
      reset     close the connection as soon as the command arrives, unanswered
      silent    never answer this connection again (a hung broker); it stays open
      drip      from this command on, send every reply one byte every `pace` seconds
      stream    reply `data`, then stream `filler` (b"x" by default) until the peer goes away
      slow      wait `pace` seconds, then reply `data` (or the real reply when empty)
    times: how many firings before the fault is used up."""

    def __init__(self, kind, on=None, after=0, data=b"", times=1, pace=1.0, filler=b"x"):
        self.kind, self.on, self.after, self.data = kind, on, after, data
        self.filler = filler
        self.times, self.pace = times, pace
        self.fired = 0


class FakeRedis:
    def __init__(self, queues=None, bindings=None):
        # queue name (bytes) -> length of its priority-0 list; the others are empty
        self.queues = dict(queues or {b"celery": 3})
        # binding set key -> members, as kombu writes them: routing_key SEP pattern SEP queue
        self.bindings = dict(bindings or {
            b"_kombu.binding." + q: [q + SEP + SEP + q] for q in self.queues})
        self.lock = threading.Lock()
        self.faults = []
        self.commands = []          # (conn id, command name) in arrival order
        self.conns = 0
        self.open = []
        self.stop_ = False
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.sock.settimeout(0.1)
        self.t = threading.Thread(target=self._accept, daemon=True)
        self.t.start()

    def url(self, db=0, password=None):
        auth = f":{password}@" if password else ""
        return f"redis://{auth}127.0.0.1:{self.port}/{db}"

    def arm(self, fault):
        with self.lock:
            self.faults.append(fault)
        return fault

    def armed(self):
        with self.lock:
            return [f for f in self.faults if f.fired < f.times]

    def seen(self, name):
        with self.lock:
            return sum(1 for _, c in self.commands if c == name)

    def close(self):
        self.stop_ = True
        self.t.join()
        self.sock.close()
        with self.lock:
            for c in self.open:
                try:
                    c.close()
                except OSError:
                    pass

    # ---- server ----

    def _accept(self):
        while not self.stop_:
            try:
                c, _ = self.sock.accept()
            except OSError:
                continue
            with self.lock:
                self.conns += 1
                cid = self.conns
                self.open.append(c)
            threading.Thread(target=self._serve, args=(c, cid), daemon=True).start()

    def _take(self, name):
        """The first armed fault for this command, counted as fired."""
        with self.lock:
            for f in self.faults:
                if f.fired < f.times and (f.on is None or f.on == name):
                    return f
        return None

    def _serve(self, c, cid):
        buf = b""
        c.settimeout(0.2)
        state = {"silent": False, "pace": 0.0, "counts": {}}
        try:
            while not self.stop_:
                try:
                    d = c.recv(65536)
                except socket.timeout:
                    continue
                if not d:
                    return
                buf += d
                cmds, buf = parse(buf)
                if not self._batch(c, cid, cmds, state):
                    return
        except OSError:
            pass
        finally:
            with self.lock:
                if c in self.open:
                    self.open.remove(c)
            try:
                c.close()
            except OSError:
                pass

    def _batch(self, c, cid, cmds, state):
        """Answer one read's worth of commands (a pipeline). False: the connection is done."""
        out = b""
        for argv in cmds:
            name = argv[0].upper()
            with self.lock:
                self.commands.append((cid, name))
            if state["silent"]:
                continue
            f = self._take(name)
            n = state["counts"].get(name, 0)
            state["counts"][name] = n + 1
            if f and f.kind == "die" and n >= f.after:
                f.fired += 1
                self._send(c, out, state)
                c.shutdown(socket.SHUT_WR)
                time.sleep(0.2)     # let the peer read what was sent before the close
                return False
            if f and f.kind == "reset":
                f.fired += 1
                c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\0\0\0\0\0\0\0")
                return False         # SO_LINGER 0: close sends RST
            if f and f.kind == "silent":
                f.fired += 1
                state["silent"] = True
                continue
            if f and f.kind == "drip":
                f.fired += 1
                state["pace"] = f.pace
            if f and f.kind == "slow":
                f.fired += 1
                self._send(c, out, state)
                out = b""
                time.sleep(f.pace)
                out += f.data or self.reply(argv)
                continue
            if f and f.kind == "raw":
                f.fired += 1
                out += f.data
                continue
            if f and f.kind == "stream":
                f.fired += 1
                self._send(c, out + f.data, state)
                return self._stream(c, f.filler)
            out += self.reply(argv)
        self._send(c, out, state)
        return True

    def _send(self, c, data, state):
        if not state["pace"]:
            c.sendall(data)
            return
        for i in range(len(data)):
            if self.stop_:
                return
            c.sendall(data[i:i + 1])
            time.sleep(state["pace"])

    def _stream(self, c, filler):
        chunk = filler * (65536 // len(filler))
        c.settimeout(5)
        try:
            while not self.stop_:
                c.sendall(chunk)
        except OSError:
            pass
        return False

    def reply(self, argv):
        name, args = argv[0].upper(), argv[1:]
        if name in (b"AUTH", b"SELECT"):
            return b"+OK\r\n"
        if name == b"PING":
            return b"+PONG\r\n"
        if name == b"SCAN":
            keys = [k for k in sorted(self.bindings)]
            return array([bulk(b"0"), array([bulk(k) for k in keys])])
        if name == b"SMEMBERS":
            return array([bulk(m) for m in self.bindings.get(args[0], [])])
        if name == b"LLEN":
            return b":%d\r\n" % self.queues.get(args[0], 0)
        if name in (b"HLEN", b"ZCARD"):
            return b":0\r\n"
        return b"-ERR unknown command\r\n"


def parse(buf):
    """Complete RESP arrays of bulk strings (what hiredis sends) from buf: (commands, rest)."""
    cmds = []
    while buf.startswith(b"*"):
        end = buf.find(b"\r\n")
        if end < 0:
            break
        n = int(buf[1:end])
        pos, argv = end + 2, []
        for _ in range(n):
            e = buf.find(b"\r\n", pos)
            if e < 0:
                return cmds, buf
            ln = int(buf[pos + 1:e])
            if len(buf) < e + 2 + ln + 2:
                return cmds, buf
            argv.append(buf[e + 2:e + 2 + ln])
            pos = e + 2 + ln + 2
        cmds.append(argv)
        buf = buf[pos:]
    return cmds, buf
