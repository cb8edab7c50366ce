/* proc_sample facts: the /proc stat/status/syscall parsers on hostile contents, a fake /proc
 * tree (pid reuse, vanished files), the TCP table and address parsers, broker connections
 * of this very process over a real loopback socket, CLIENT LIST replies a hostile broker may
 * send, and the proc_sample line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>

#include <hiredis/hiredis.h>
#include <json-c/json.h>

#include "broker/clients.h"
#include "capture/brokerconn.h"
#include "capture/procstat.h"
#include "log/eventlog.h"
#include "log/procfmt.h"

#define STAT_TAIL " S 1 1 1 0 -1 4194560 100 0 0 0 5 3 0 0 20 0 1 0 777 1000 200 " \
		  "18446744073709551615 1 1 0 0 0 0 0 16781312 2 0 0 0 17 1 0 0 0 0 0\n"

static int parse_stat(const char *s, char *state, uint64_t *cpu, uint64_t *start)
{
	return cw_procstat_parse_stat(s, strlen(s), state, cpu, start);
}

static void test_stat_hostile_comm(void **st)
{
	char state = 0;
	uint64_t cpu = 0, start = 0;

	(void)st;
	/* a comm that looks like the end of comm and a state: fields count after the last ')' */
	assert_int_equal(parse_stat("42 (a) S (b)" STAT_TAIL, &state, &cpu, &start), 0);
	assert_int_equal(state, 'S');
	assert_int_equal(cpu, 8);
	assert_int_equal(start, 777);
	assert_int_equal(parse_stat("42 (x y) 1 2 3)" STAT_TAIL, &state, &cpu, &start), 0);
	assert_int_equal(start, 777);
	assert_int_equal(parse_stat("42 ())" STAT_TAIL, &state, &cpu, &start), 0);
	assert_int_equal(cpu, 8);
}

static void test_stat_truncated(void **st)
{
	const char *full = "42 (celery) R 1 1 1 0 -1 4194560 100 0 0 0 5 3 0 0 20 0 1 0 777 1000\n";
	char state;
	uint64_t cpu, start;

	(void)st;
	assert_int_equal(cw_procstat_parse_stat(full, strlen(full), &state, &cpu, &start), 0);
	assert_int_equal(state, 'R');
	/* every cut before the start time fails, none reads past the length */
	for (size_t n = 0; n < (size_t)(strstr(full, "777") - full); n++) {
		char *cut = malloc(n ? n : 1);
		memcpy(cut, full, n);
		assert_int_equal(cw_procstat_parse_stat(cut, n, &state, &cpu, &start), -EINVAL);
		free(cut);
	}
	assert_int_equal(parse_stat("42 (celery)", &state, &cpu, &start), -EINVAL);
	assert_int_equal(parse_stat("42 celery S 1", &state, &cpu, &start), -EINVAL);
	assert_int_equal(parse_stat("42 (c) S 1 1 1 0 -1 x 1 1 1 1 a b 0 0 20 0 1 0 7", &state, &cpu, &start),
			 -EINVAL);
	assert_int_equal(parse_stat("42 (c) S 1 1 1 0 -1 1 1 1 1 1 99999999999999999999 1 0 0 20 0 1 0 7",
				    &state, &cpu, &start), -EINVAL);
}

static void test_status(void **st)
{
	const char *ok = "Name:\tx\nvoluntary_ctxt_switches:\t120\nnonvoluntary_ctxt_switches:\t7\n";
	const char *fake = "Name:\tvoluntary_ctxt_switches: 5\nvoluntary_ctxt_switches:\t1\n"
			   "nonvoluntary_ctxt_switches:\t2";
	uint64_t n = 0;

	(void)st;
	assert_int_equal(cw_procstat_parse_status(ok, strlen(ok), &n), 0);
	assert_int_equal(n, 127);
	/* a Name: line holding the key is not the key's line */
	assert_int_equal(cw_procstat_parse_status(fake, strlen(fake), &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(cw_procstat_parse_status(ok, 40, &n), -EINVAL);	/* truncated */
	assert_int_equal(cw_procstat_parse_status("voluntary_ctxt_switches:\t1x\n"
						  "nonvoluntary_ctxt_switches:\t2\n", 59, &n), -EINVAL);
	assert_int_equal(cw_procstat_parse_status("", 0, &n), -EINVAL);
}

static void test_syscall(void **st)
{
	char name[32];
	const char *s;

	(void)st;
	s = "45 0x3 0x7f 0x10000 0x0 0x0 0x0 0x7ffd 0x7f12\n";
	cw_procstat_parse_syscall(s, strlen(s), name, sizeof(name));
	assert_string_equal(name, cw_syscall_name(45));
	assert_non_null(cw_syscall_name(0));
	s = "running\n";
	cw_procstat_parse_syscall(s, strlen(s), name, sizeof(name));
	assert_string_equal(name, "");
	s = "-1 0x7ffd 0x7f12\n";
	cw_procstat_parse_syscall(s, strlen(s), name, sizeof(name));
	assert_string_equal(name, "");
	s = "4000 0x1\n";
	cw_procstat_parse_syscall(s, strlen(s), name, sizeof(name));
	assert_string_equal(name, "syscall_4000");
	s = "99999999999999999999999";
	cw_procstat_parse_syscall(s, strlen(s), name, sizeof(name));
	assert_string_equal(name, "");
	cw_procstat_parse_syscall("7x", 2, name, sizeof(name));
	assert_string_equal(name, "");
	assert_null(cw_syscall_name(-1));
	assert_null(cw_syscall_name(1 << 20));
}

/* ---- a fake /proc ---- */

static char root[64];

static void put(int pid, const char *name, const char *data)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%d", root, pid);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/%d/%s", root, pid, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(data, f);
	fclose(f);
}

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb, (void)flag, (void)ftw;
	return remove(p);
}

static void test_fake_proc(void **st)
{
	struct cw_procstat ps;
	int fd;

	(void)st;
	snprintf(root, sizeof(root), "/tmp/cw-pf-XXXXXX");
	assert_non_null(mkdtemp(root));
	put(10, "stat", "10 (a) S (b)" STAT_TAIL);
	put(10, "status", "voluntary_ctxt_switches:\t3\nnonvoluntary_ctxt_switches:\t4\n");
	put(10, "wchan", "sk_wait_data");
	put(10, "syscall", "45 0x3 0x7f 0x10000 0x0 0x0 0x0 0x7ffd 0x7f12\n");
	fd = cw_procstat_open(root, 10, 777, &ps);
	assert_true(fd >= 0);
	assert_int_equal(ps.state, 'S');
	assert_int_equal(ps.cpu_ticks, 8);
	assert_int_equal(ps.ctxsw, 7);
	assert_string_equal(ps.wchan, "");
	cw_procstat_wait(fd, &ps);
	assert_string_equal(ps.wchan, "sk_wait_data");
	assert_string_equal(ps.syscall, cw_syscall_name(45));
	close(fd);
	/* the pid now belongs to another process */
	assert_int_equal(cw_procstat_open(root, 10, 778, &ps), -ESRCH);
	/* gone */
	assert_int_equal(cw_procstat_open(root, 11, 777, &ps), -ESRCH);
	/* gone between stat and status */
	put(12, "stat", "12 (a)" STAT_TAIL);
	assert_int_equal(cw_procstat_open(root, 12, 777, &ps), -ESRCH);
	/* an empty stat is a process gone; garbage is -EINVAL */
	put(13, "stat", "");
	assert_int_equal(cw_procstat_open(root, 13, 777, &ps), -ESRCH);
	put(14, "stat", "garbage");
	assert_int_equal(cw_procstat_open(root, 14, 777, &ps), -EINVAL);
	/* wchan "0" (running) and a hostile wchan: nothing, or only its symbol part */
	put(15, "stat", "15 (a)" STAT_TAIL);
	put(15, "status", "voluntary_ctxt_switches:\t3\nnonvoluntary_ctxt_switches:\t4\n");
	put(15, "wchan", "0");
	put(15, "syscall", "running\n");
	fd = cw_procstat_open(root, 15, 777, &ps);
	assert_true(fd >= 0);
	cw_procstat_wait(fd, &ps);
	assert_string_equal(ps.wchan, "");
	assert_string_equal(ps.syscall, "");
	close(fd);
	put(15, "wchan", "evil\"\n{\"type\":\"x\"}");
	fd = cw_procstat_open(root, 15, 777, &ps);
	cw_procstat_wait(fd, &ps);
	assert_string_equal(ps.wchan, "evil");
	close(fd);
	nftw(root, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

/* this process, through the real /proc */
static void test_real_self(void **st)
{
	struct cw_procstat ps, again;
	int fd;

	(void)st;
	fd = cw_procstat_open("/proc", getpid(), 0, &ps);
	assert_int_equal(fd, -ESRCH);	/* start time 0: never this process */
	/* learn the start time with a wrong guess... */
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", getpid());
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	size_t n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	char state;
	uint64_t cpu, start;
	assert_int_equal(cw_procstat_parse_stat(buf, n, &state, &cpu, &start), 0);
	fd = cw_procstat_open("/proc", getpid(), start, &ps);
	assert_true(fd >= 0);
	assert_int_equal(ps.state, 'R');
	assert_true(ps.ctxsw > 0);
	close(fd);
	fd = cw_procstat_open("/proc", getpid(), start, &again);
	assert_true(again.ctxsw >= ps.ctxsw);
	close(fd);
}

/* ---- TCP tables and addresses ---- */

static void test_tcp_lines(void **st)
{
	struct cw_sockaddr lo, re;
	uint64_t ino;
	const char *l4 = "   3: 0100007F:D4F2 0100007F:18EB 01 00000000:00000000 02:000A7A4A 00000000     0        0 4242 2 0000000000000000 20 4 30 10 -1";
	const char *listen = "   0: 0100007F:18EB 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 17 1 0000000000000000 100 0 0 10 0";
	const char *l6 = "   1: 0000000000000000FFFF00000100007F:D4F2 0000000000000000FFFF00000100007F:18EB 01 00000000:00000000 00:00000000 00000000     0        0 99 1 0";
	const char *l6b = "   2: 00000000000000000000000001000000:9C40 00000000000000000000000001000000:18EB 01 00000000:00000000 00:00000000 00000000  0 0 100 1";
	char out[64];

	(void)st;
	assert_true(cw_bconn_parse_line(l4, strlen(l4), false, &lo, &re, &ino));
	assert_int_equal(ino, 4242);
	cw_sockaddr_format(&lo, out, sizeof(out));
	assert_string_equal(out, "127.0.0.1:54514");
	cw_sockaddr_format(&re, out, sizeof(out));
	assert_string_equal(out, "127.0.0.1:6379");
	assert_false(cw_bconn_parse_line(listen, strlen(listen), false, &lo, &re, &ino));
	assert_false(cw_bconn_parse_line("  sl  local_address rem_address   st tx_queue", 45, false, &lo, &re, &ino));
	/* v4-mapped IPv6 is IPv4, as CLIENT LIST writes it */
	assert_true(cw_bconn_parse_line(l6, strlen(l6), true, &lo, &re, &ino));
	cw_sockaddr_format(&re, out, sizeof(out));
	assert_string_equal(out, "127.0.0.1:6379");
	assert_true(cw_bconn_parse_line(l6b, strlen(l6b), true, &lo, &re, &ino));
	cw_sockaddr_format(&lo, out, sizeof(out));
	assert_string_equal(out, "[::1]:40000");
	/* every truncation of a good line is refused or parsed, never read past */
	for (size_t n = 0; n < strlen(l4); n++) {
		char *cut = malloc(n ? n : 1);
		memcpy(cut, l4, n);
		cw_bconn_parse_line(cut, n, false, &lo, &re, &ino);
		cw_bconn_parse_line(cut, n, true, &lo, &re, &ino);
		free(cut);
	}
}

static void test_sockaddr_parse(void **st)
{
	struct cw_sockaddr a;
	char out[64];

	(void)st;
	assert_true(cw_sockaddr_parse("10.1.2.3:6379", &a));
	assert_int_equal(a.port, 6379);
	assert_true(cw_sockaddr_parse("[::1]:5", &a));
	cw_sockaddr_format(&a, out, sizeof(out));
	assert_string_equal(out, "[::1]:5");
	assert_true(cw_sockaddr_parse("::1:5", &a));	/* older Redis: no brackets */
	assert_true(cw_sockaddr_parse("[::ffff:127.0.0.1]:9", &a));
	assert_int_equal(a.family, AF_INET);
	assert_false(cw_sockaddr_parse("", &a));
	assert_false(cw_sockaddr_parse("1.2.3.4", &a));
	assert_false(cw_sockaddr_parse("1.2.3.4:", &a));
	assert_false(cw_sockaddr_parse("1.2.3.4:70000", &a));
	assert_false(cw_sockaddr_parse("1.2.3.4:-1", &a));
	assert_false(cw_sockaddr_parse("/tmp/redis.sock:0", &a));
	assert_false(cw_sockaddr_parse("[]:1", &a));
}

/* a real connection from this process to a listener of its own */
static void test_real_conn(void **st)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);
	int ls = socket(AF_INET, SOCK_STREAM, 0), cs = socket(AF_INET, SOCK_STREAM, 0), as;
	struct cw_sockaddr broker, other, local[CW_BCONN_MAX_LOCAL], mine;
	struct cw_bconn *b = calloc(1, sizeof(*b));
	size_t nlocal;
	char text[64];

	(void)st;
	assert_int_equal(bind(ls, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(ls, 1), 0);
	assert_int_equal(getsockname(ls, (struct sockaddr *)&sa, &sl), 0);
	assert_int_equal(connect(cs, (struct sockaddr *)&sa, sizeof(sa)), 0);
	as = accept(ls, NULL, NULL);
	assert_true(as >= 0);
	assert_true(cw_sockaddr_from((struct sockaddr *)&sa, &broker));
	sl = sizeof(sa);
	getsockname(cs, (struct sockaddr *)&sa, &sl);
	cw_sockaddr_from((struct sockaddr *)&sa, &mine);
	int dfd = open("/proc/self", O_RDONLY | O_DIRECTORY);

	/* by the broker's address: our client socket (the accepted one's peer is not it) */
	cw_bconn_begin(b, &broker, 1, NULL, 0);
	assert_int_equal(cw_bconn_count(b, dfd, local, &nlocal), 1);
	assert_int_equal(nlocal, 1);
	assert_memory_equal(&local[0], &mine, sizeof(mine));
	cw_bconn_end(b);

	/* another broker address, but CLIENT LIST saw our local address */
	other = broker;
	other.port ^= 1;
	cw_sockaddr_format(&mine, text, sizeof(text));
	const char *addrs[] = { "junk", text };
	cw_bconn_begin(b, &other, 1, addrs, 2);
	assert_int_equal(cw_bconn_count(b, dfd, local, &nlocal), 1);
	cw_bconn_end(b);

	/* neither: no connection */
	cw_bconn_begin(b, &other, 1, NULL, 0);
	assert_int_equal(cw_bconn_count(b, dfd, local, &nlocal), 0);
	cw_bconn_end(b);
	close(dfd);
	close(as);
	close(cs);
	close(ls);
	free(b);
}

/* a unix-socket broker of this process's own: its client end is the one connection */
static void test_real_unix_conn(void **st)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct cw_bconn *b = calloc(1, sizeof(*b));
	struct cw_sockaddr local[CW_BCONN_MAX_LOCAL];
	size_t nlocal;
	int ls = socket(AF_UNIX, SOCK_STREAM, 0), cs = socket(AF_UNIX, SOCK_STREAM, 0), as;
	char dir[] = "/tmp/cw-pfu-XXXXXX";

	(void)st;
	assert_non_null(mkdtemp(dir));
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/redis.sock", dir);
	int dfd = open("/proc/self", O_RDONLY | O_DIRECTORY);
	/* nobody listens there yet: not known, rather than "no connection" */
	assert_int_equal(cw_bconn_begin_unix(b, sa.sun_path), -ENOENT);
	cw_bconn_end(b);
	assert_int_equal(bind(ls, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(ls, 1), 0);
	assert_int_equal(cw_bconn_begin_unix(b, sa.sun_path), 0);
	assert_int_equal(cw_bconn_count(b, dfd, local, &nlocal), 0);
	cw_bconn_end(b);
	assert_int_equal(connect(cs, (struct sockaddr *)&sa, sizeof(sa)), 0);
	as = accept(ls, NULL, NULL);
	assert_true(as >= 0);
	assert_int_equal(cw_bconn_begin_unix(b, sa.sun_path), 0);
	assert_int_equal(cw_bconn_count(b, dfd, local, &nlocal), 1);
	assert_int_equal(nlocal, 0);
	cw_bconn_end(b);
	/* another path: not ours */
	assert_int_equal(cw_bconn_begin_unix(b, "/tmp/cw-no-such.sock"), -ENOENT);
	cw_bconn_end(b);
	close(as);
	close(cs);
	close(ls);
	close(dfd);
	unlink(sa.sun_path);
	rmdir(dir);
	free(b);
}

/* ---- CLIENT LIST ---- */

static redisReply *reply_of(const char *wire, size_t len)
{
	redisReader *r = redisReaderCreate();
	void *rep = NULL;

	assert_int_equal(redisReaderFeed(r, wire, len), REDIS_OK);
	assert_int_equal(redisReaderGetReply(r, &rep), REDIS_OK);
	redisReaderFree(r);
	assert_non_null(rep);
	return rep;
}

static void test_clients(void **st)
{
	static const char text[] =
		"id=3 addr=127.0.0.1:54330 laddr=127.0.0.1:6379 fd=8 name= age=5 idle=0 flags=N "
		"db=0 sub=0 psub=0 multi=-1 qbuf=0 obl=0 oll=0 omem=0 events=r cmd=brpop user=default\n"
		"id=4 addr=[::1]:40000 fd=9 name= age=5 idle=12 cmd=sadd\r\n"
		"id=5 name=noaddr idle=1 cmd=get\n"
		"id=6 addr=10.0.0.1:1 idle=x cmd=" "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n";
	char wire[1024];
	int n = snprintf(wire, sizeof(wire), "$%zu\r\n%s\r\n", sizeof(text) - 1, text);
	redisReply *rep = reply_of(wire, (size_t)n);
	struct cw_broker_client *c;
	size_t nc;

	(void)st;
	assert_int_equal(cw_broker_read_clients(rep, &c, &nc), 0);
	assert_int_equal(nc, 3);
	assert_string_equal(c[0].addr, "127.0.0.1:54330");
	assert_string_equal(c[0].laddr, "127.0.0.1:6379");
	assert_int_equal(c[0].idle_s, 0);
	assert_string_equal(c[0].cmd, "brpop");
	assert_string_equal(c[1].addr, "[::1]:40000");
	assert_int_equal(c[1].idle_s, 12);
	assert_string_equal(c[1].cmd, "sadd");
	assert_int_equal(c[2].idle_s, -1);
	assert_int_equal(strlen(c[2].cmd), sizeof(c[2].cmd) - 1);	/* cut, terminated */
	free(c);
	freeReplyObject(rep);

	/* an ACL user without CLIENT, an old server, not a string at all */
	rep = reply_of("-NOPERM this user has no permissions to run the 'client' command\r\n", 66);
	assert_int_equal(cw_broker_read_clients(rep, &c, &nc), -EPROTO);
	assert_null(c);
	assert_int_equal(nc, 0);
	freeReplyObject(rep);
	rep = reply_of("*2\r\n:1\r\n$1\r\nx\r\n", 15);
	assert_int_equal(cw_broker_read_clients(rep, &c, &nc), -EPROTO);
	freeReplyObject(rep);
	rep = reply_of(":5\r\n", 4);
	assert_int_equal(cw_broker_read_clients(rep, &c, &nc), -EPROTO);
	freeReplyObject(rep);
	assert_int_equal(cw_broker_read_clients(NULL, &c, &nc), -EPROTO);
}

static void test_clients_hostile(void **st)
{
	static const char evil[] = "addr=1.2.3.4:5\0\"\n cmd=a\x01\"}\n addr=\n==== = =\naddr=x cmd\n";
	struct cw_broker_client *c;
	size_t nc;

	(void)st;
	assert_int_equal(cw_broker_parse_clients(evil, sizeof(evil) - 1, &c, &nc), 0);
	assert_int_equal(nc, 2);
	assert_string_equal(c[0].addr, "1.2.3.4:5");	/* stops at the NUL */
	assert_string_equal(c[1].addr, "x");
	free(c);
	/* a huge reply: at most CW_MAX_CLIENTS */
	size_t len = (CW_MAX_CLIENTS + 10) * 8;
	char *big = malloc(len);
	for (size_t i = 0; i < len; i += 8)
		memcpy(big + i, "addr=a:1\n" , 8);
	for (size_t i = 7; i < len; i += 8)
		big[i] = '\n';
	assert_int_equal(cw_broker_parse_clients(big, len, &c, &nc), 0);
	assert_int_equal(nc, CW_MAX_CLIENTS);
	free(c);
	free(big);
	assert_int_equal(cw_broker_parse_clients("", 0, &c, &nc), 0);
	assert_int_equal(nc, 0);
	free(c);
}

/* ---- the line ---- */

static void test_procfmt(void **st)
{
	struct jw w;
	struct cw_pf_conn conn = { .laddr = "127.0.0.1:54330", .idle_s = 0, .cmd = "brpop" };
	struct cw_pf_proc p[2] = {
		{ .pid = 10, .pstart = 777, .state = 'S', .cpu_ticks = 8, .ctxsw = 7,
		  .wchan = "sk_wait_data", .syscall = "recvfrom", .broker_conns = 1,
		  .conns = &conn, .nconns = 1 },
		{ .pid = 11, .pstart = 778, .state = 'R', .cpu_ticks = 9, .ctxsw = 1, .wchan = "",
		  .broker_conns = 0 },
	};
	struct cw_pf_broker b = { .addr = "127.0.0.1:6379", .conn_known = true, .client_list = true };

	(void)st;
	cw_eventlog_set_host("h\"1");
	jw_init(&w);
	cw_proc_sample_json(&w, 1764600000000000000ull, 99, &b, p, 2, 0);
	assert_int_equal(w.buf[w.len - 1], '\n');
	assert_null(memchr(w.buf, '\n', w.len - 1));
	assert_non_null(strstr(w.buf, "{\"v\":2,\"type\":\"proc_sample\",\"ts\":\"2025-12-01T14:40:00.000000Z\","));
	assert_non_null(strstr(w.buf, "\"broker\":{\"addr\":\"127.0.0.1:6379\",\"conn_known\":true,\"client_list\":true},"
				      "\"procs\":[{\"pid\":10,\"pstart\":777,\"state\":\"S\",\"cpu_ticks\":8,\"ctxsw\":7,"
				      "\"wchan\":\"sk_wait_data\",\"syscall\":\"recvfrom\",\"broker_conns\":1,"
				      "\"conns\":[{\"laddr\":\"127.0.0.1:54330\",\"idle_s\":0,\"cmd\":\"brpop\"}]},"
				      "{\"pid\":11,\"pstart\":778,\"state\":\"R\",\"cpu_ticks\":9,\"ctxsw\":1,\"broker_conns\":0}]}\n"));
	assert_null(strstr(w.buf, "procs_omitted"));

	/* no connection facts: broker_conns null, conns absent even when given */
	b = (struct cw_pf_broker){ .addr = NULL, .conn_known = false, .client_list = false };
	cw_proc_sample_json(&w, 1764600000000000000ull, 99, &b, p, 1, 3);
	assert_non_null(strstr(w.buf, "\"broker\":{\"addr\":null,\"conn_known\":false,\"client_list\":false}"));
	assert_non_null(strstr(w.buf, "\"broker_conns\":null}],\"procs_omitted\":3}"));
	assert_null(strstr(w.buf, "conns\":["));
	json_object *o = json_tokener_parse(w.buf);
	assert_non_null(o);
	json_object_put(o);

	/* the bound: 600 processes are 512 and 88 omitted */
	struct cw_pf_proc *many = calloc(600, sizeof(*many));
	for (int i = 0; i < 600; i++)
		many[i] = (struct cw_pf_proc){ .pid = (uint32_t)i, .state = 'S', .broker_conns = -1 };
	cw_proc_sample_json(&w, 1, 99, &b, many, 600, 0);
	o = json_tokener_parse(w.buf);
	assert_non_null(o);
	json_object *procs, *om;
	assert_true(json_object_object_get_ex(o, "procs", &procs));
	assert_int_equal(json_object_array_length(procs), CW_PROC_SAMPLE_MAX);
	assert_true(json_object_object_get_ex(o, "procs_omitted", &om));
	assert_int_equal(json_object_get_int(om), 600 - CW_PROC_SAMPLE_MAX);
	json_object_put(o);
	free(many);
	jw_free(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stat_hostile_comm),
		cmocka_unit_test(test_stat_truncated),
		cmocka_unit_test(test_status),
		cmocka_unit_test(test_syscall),
		cmocka_unit_test(test_fake_proc),
		cmocka_unit_test(test_real_self),
		cmocka_unit_test(test_tcp_lines),
		cmocka_unit_test(test_sockaddr_parse),
		cmocka_unit_test(test_real_conn),
		cmocka_unit_test(test_real_unix_conn),
		cmocka_unit_test(test_clients),
		cmocka_unit_test(test_clients_hostile),
		cmocka_unit_test(test_procfmt),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
