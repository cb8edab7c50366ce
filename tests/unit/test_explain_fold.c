/* Folding recycled pool children (explain/timeline_fold.h): the process slots stay bounded
 * by the live processes, and every report reads the same as without folding, but for the
 * recycled children --json no longer lists one by one (counted in recycled_unlisted). Each
 * log is read twice, folding off and folding every recycled child, and compared. */
#include "explain_run.h"

#include <unistd.h>

#include "explain/timeline_fold.h"

#define T0 1795514400000000LL	/* 2026-11-24T10:00:00Z */

static void ts_at(char *out, size_t len, int64_t us)
{
	cw_format_ts(us, out, len);
}

/* One prefork worker (concurrency 2, queue qf): child 8101 lives throughout, the other slot
 * is recycled every second; a depth and a proc_sample line every 5 s (schema 2), with no CPU
 * used by the MainProcess and 8101 from 100 s to 200 s while tasks wait (the recycled
 * children worked then: no stall). At the last step 8101 exits 155 too, half a second before
 * the last recycled child, and nobody is forked again (degraded by a recycled child):
 * steps + 1 recycled children, 8101 never folded (it was still for 10 s and more). */
static void exit_line(FILE *f, int64_t us, int64_t pid, int64_t pstart, const char *id,
		      const char *tail)
{
	char t[40];

	ts_at(t, sizeof(t), us);
	fprintf(f, "{\"v\":2,\"type\":\"exit\",\"ts\":\"%s\",\"host\":\"web1\",\"pid\":%lld,"
		"\"pstart\":%lld,\"ppid\":8100,%s,\"exit_code\":155,\"signal\":null,"
		"\"stderr_tail\":\"%s\",\"role\":\"pool\"}\n", t, (long long)pid, (long long)pstart,
		id, tail);
}

static char *gen_log(int steps)
{
	char *path = strdup("/tmp/cw_test_foldXXXXXX");
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");
	char t[40];
	int64_t kid[2] = {8101, 8102}, kst[2] = {108101, 108102}, next = 9000, cpu = 5;
	const char *id = "\"uid\":33,\"comm\":\"celery\",\"cgroup\":\"/celery\",\"worker\":\"w_f@web1\","
			 "\"queues\":[\"qf\"]";

	assert_non_null(f);
	ts_at(t, sizeof(t), T0);
	fprintf(f, "{\"v\":2,\"type\":\"tracer_start\",\"ts\":\"%s\",\"host\":\"web1\",\"pid\":900,"
		"\"schema\":2,\"boot_id\":\"b1\"}\n", t);
	fprintf(f, "{\"v\":2,\"type\":\"scan\",\"ts\":\"%s\",\"host\":\"web1\",\"pid\":8100,"
		"\"pstart\":108100,\"ppid\":1,%s,\"argv\":[\"celery\",\"-A\",\"proj\",\"worker\","
		"\"-n\",\"w_f@web1\",\"-Q\",\"qf\",\"-c\",\"2\"],\"role\":\"main\",\"concurrency\":2,"
		"\"pool\":\"prefork\",\"command\":\"worker\"}\n", t, id);
	for (int k = 0; k < 2; k++)
		fprintf(f, "{\"v\":2,\"type\":\"scan\",\"ts\":\"%s\",\"host\":\"web1\",\"pid\":%lld,"
			"\"pstart\":%lld,\"ppid\":8100,%s,\"argv\":[\"celery\"],\"role\":\"pool\","
			"\"pool\":\"prefork\",\"command\":\"worker\"}\n", t, (long long)kid[k],
			(long long)kst[k], id);
	for (int s = 1; s <= steps; s++) {
		int64_t us = T0 + s * 1000000LL;
		if (s == steps)
			exit_line(f, us - 500000, kid[0], kst[0], id, "done\\n");
		exit_line(f, us, kid[1], kst[1], id, s % 3 ? "done\\n" : "bye\\n");
		ts_at(t, sizeof(t), us);
		if (s < steps) {
			kid[1] = next;
			kst[1] = 100000 + next++;
			fprintf(f, "{\"v\":2,\"type\":\"fork\",\"ts\":\"%s\",\"host\":\"web1\",\"pid\":%lld,"
				"\"pstart\":%lld,\"ppid\":8100,\"parent_pstart\":108100,%s,"
				"\"role\":\"pool\"}\n", t, (long long)kid[1], (long long)kst[1], id);
		}
		if (s % 5)
			continue;
		bool still = s >= 100 && s < 200;
		cpu += still ? 0 : 3;
		fprintf(f, "{\"v\":2,\"type\":\"sample\",\"ts\":\"%s\",\"host\":\"web1\",\"pid\":900,"
			"\"redis_ok\":true,\"queues\":[{\"queue\":\"qf\",\"depth\":%d}]}\n", t,
			still ? s - 95 : 0);
		fprintf(f, "{\"v\":2,\"type\":\"proc_sample\",\"ts\":\"%s\",\"host\":\"web1\","
			"\"pid\":900,\"broker\":{\"addr\":\"127.0.0.1:6379\",\"conn_known\":true,"
			"\"client_list\":true},\"procs\":[{\"pid\":8100,\"pstart\":108100,\"state\":\"S\","
			"\"cpu_ticks\":%lld,\"ctxsw\":%lld,\"broker_conns\":1}", t, (long long)cpu,
			(long long)cpu);
		for (int j = 0; j < 2 && s < steps; j++)	/* the recycled child always works */
			fprintf(f, ",{\"pid\":%lld,\"pstart\":%lld,\"state\":\"S\",\"cpu_ticks\":%lld,"
				"\"ctxsw\":%lld,\"broker_conns\":0}", (long long)kid[j],
				(long long)kst[j], (long long)(j ? s : cpu), (long long)(j ? s : cpu));
		fprintf(f, "]}\n");
	}
	assert_int_equal(fclose(f), 0);
	return path;
}

/* path read with folding past `keep` recycled children (-1: off), analysed over the window */
static struct run *load_fold(const char *path, int keep, int64_t since, const char *queue)
{
	struct run *r = calloc(1, sizeof(*r));
	char *p = strdup(path);
	struct cw_judge_opts o = {20 * 1000000LL, 30 * 1000000LL};

	assert_int_equal(cw_timeline_init(&r->tl), 0);
	r->tl.fold = keep >= 0;
	r->tl.fold_keep = keep;
	r->tl.fold_from = since;
	assert_int_equal(cw_timeline_load(&r->tl, &p, 1, &r->st, stderr), 0);
	assert_int_equal(cw_analyze_opts(&r->tl, since, CW_NONE, queue, &o, &r->an), 0);
	free(p);
	return r;
}

static char *json_doc(struct run *r)
{
	struct cw_report_in in = {.tl = &r->tl, .a = &r->an};
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_int_equal(cw_report_json(f, &in), 0);
	fclose(f);
	return buf;
}

static char *html_page(struct run *r)
{
	struct cw_report_in in = {.tl = &r->tl, .a = &r->an};
	char dir[] = "/tmp/cw_test_foldhXXXXXX", path[256], err[256];
	char *buf = NULL;
	size_t len = 0;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/out.html", dir);
	assert_int_equal(cw_report_html(path, &in, err, sizeof(err)), 0);
	FILE *f = fopen(path, "r"), *m = open_memstream(&buf, &len);
	int c;
	while ((c = fgetc(f)) != EOF)
		fputc(c, m);
	fclose(f);
	fclose(m);
	unlink(path);
	rmdir(dir);
	return buf;
}

/* b's deaths are a's in order, but for recycled ones it counts in recycled_unlisted; the
 * rest of the documents is the same. Returns how many were left out. */
static int same_but_unlisted(const char *ja, const char *jb)
{
	json_object *a = json_tokener_parse(ja), *b = json_tokener_parse(jb);
	json_object *da = field(a, "deaths"), *db = field(b, "deaths"), *un = NULL;
	size_t ib = 0, na = json_object_array_length(da), nb = json_object_array_length(db);
	int left = 0;

	for (size_t i = 0; i < na; i++) {
		json_object *d = json_object_array_get_idx(da, i);
		if (ib < nb && json_object_equal(d, json_object_array_get_idx(db, ib))) {
			ib++;
			continue;
		}
		assert_string_equal(json_object_get_string(field(d, "kind")), "recycled");
		left++;
	}
	assert_int_equal(ib, nb);
	json_object_object_get_ex(b, "recycled_unlisted", &un);
	assert_int_equal(un ? json_object_get_int(un) : 0, left);
	json_object_object_del(a, "deaths");
	json_object_object_del(b, "deaths");
	json_object_object_del(b, "recycled_unlisted");
	assert_true(json_object_equal(a, b));
	json_object_put(a);
	json_object_put(b);
	return left;
}

/* Text, HTML and --json without folding and folding past `keep`. Returns how many --json
 * left out. The HTML draws a tick per recycled child while they are <= 300, for those kept
 * whole: it is the same when they are more, or when keep covers them. */
static int compare(const char *path, int64_t since, const char *queue, int keep)
{
	struct run *a = load_fold(path, -1, since, queue), *b = load_fold(path, keep, since, queue);
	char *ta = text(a), *tb = text(b), *ha = html_page(a), *hb = html_page(b);
	char *ja = json_doc(a), *jb = json_doc(b);

	assert_string_equal(ta, tb);
	if (a->an.kinds[CW_K_RECYCLED] > 300 || keep >= 300)
		assert_string_equal(ha, hb);
	assert_memory_equal(a->an.kinds, b->an.kinds, sizeof(a->an.kinds));
	int left = same_but_unlisted(ja, jb);
	assert_int_equal(a->tl.nfolded, 0);
	free(ta);
	free(tb);
	free(ha);
	free(hb);
	free(ja);
	free(jb);
	unload(a);
	unload(b);
	return left;
}

/* 3000 recycled children: the slots in use stay a handful, the rest are folded records */
static void test_fold_bounds_slots(void **state)
{
	(void)state;
	char *path = gen_log(3000);
	struct run *r = load_fold(path, 0, CW_NONE, NULL);

	assert_int_equal(r->tl.nfolded, 3000);
	assert_true(r->tl.nprocs < 16);
	assert_int_equal(r->an.kinds[CW_K_RECYCLED], 3001);
	assert_int_equal(r->an.recycled_unlisted, 3000);	/* the cause brought back too */
	unload(r);
	unlink(path);
	free(path);
}

/* The generated log: a stall that ended with folded children about, the degraded verdict
 * whose cause is a folded child, and windows that start after some were folded. */
static void test_fold_same_reports_generated(void **state)
{
	(void)state;
	char *path = gen_log(800);

	assert_int_equal(compare(path, CW_NONE, NULL, 0), 800);
	/* the window includes its start: 651 recycled from 150 s to 800 s */
	assert_int_equal(compare(path, T0 + 150 * 1000000LL, NULL, 0), 651);
	assert_int_equal(compare(path, T0 + 150 * 1000000LL, "qf", 0), 651);
	/* 201 in the window (and 8101), 599 before: those before folded, the window's kept */
	assert_int_equal(compare(path, T0 + 600 * 1000000LL, "qf", 300), 0);
	assert_int_equal(compare(path, T0 + 300 * 1000000LL, NULL, 300), 501 - 300);
	struct run *r = load_fold(path, 0, CW_NONE, NULL);
	const struct cw_qverdict *v = queue(r, "qf");
	assert_int_equal(v->verdict, CW_DEGRADED);
	assert_true(r->an.deaths[v->cause].folded);
	assert_int_equal(r->an.deaths[v->cause].kind, CW_K_RECYCLED);
	/* the MainProcess was still from 100 s to 200 s, its children were not (no sample
	 * saw them still for 10 s): no stall, as their lives say, folded or not */
	assert_true(r->tl.nstills > 0);
	assert_int_equal(v->nstalls, 0);
	unload(r);
	unlink(path);
	free(path);
}

/* Every hand-written log reads the same folded or not. */
static void test_fold_same_reports_data(void **state)
{
	(void)state;
	static const char *const logs[] = {
		"html_story.jsonl", "oom_nopstart.jsonl", "pool_events.jsonl", "dup_exit.jsonl",
		"pool_subprocess.jsonl", "pidreuse.jsonl", "restart.jsonl", "reboot.jsonl",
		"stall_recovered.jsonl", "flapping.jsonl", "pool_term.jsonl", "detach.jsonl",
	};
	int left = 0;

	for (size_t i = 0; i < sizeof(logs) / sizeof(logs[0]); i++)
		left += compare(data(logs[i]), CW_NONE, NULL, 0);
	assert_true(left > 0);	/* some were folded */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fold_bounds_slots),
		cmocka_unit_test(test_fold_same_reports_generated),
		cmocka_unit_test(test_fold_same_reports_data),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
