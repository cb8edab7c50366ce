/* The journal sender's thread and queue (alert_journal.h). */
#include "alert/alert_journal.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>
#include <systemd/sd-journal.h>
#include <time.h>

#include "common/threadcaps.h"
#include "common/timeutil.h"

struct entry {
	struct cw_incident inc;		/* its strings are the copies below */
	char *s[7];
};

struct cw_alert_journal {
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct entry *q[CW_JOURNAL_QUEUE];
	unsigned head, n;
	bool stop, said;
	struct cw_alert_journal_stats st;
};

/* "NAME=value" into v[*n]; nothing for a NULL value. */
static int field(struct iovec *v, size_t *n, const char *name, const char *value)
{
	char *s;

	if (!value)
		return 0;
	if (asprintf(&s, "%s=%s", name, value) < 0)
		return -ENOMEM;
	v[(*n)++] = (struct iovec){.iov_base = s, .iov_len = strlen(s)};
	return 0;
}

/* sd_journal_send returns 0 when journald's socket is missing or refuses ("fail silently"):
 * a connect of our own to the same socket says whether anyone listens, so an absent journald
 * is counted as failed instead of sent. Returns 0, or -errno (ENOENT, ECONNREFUSED). */
static int journal_listening(void)
{
	static const struct sockaddr_un sa = {.sun_family = AF_UNIX, .sun_path = "/run/systemd/journal/socket"};
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0), e = 0;

	if (fd < 0)
		return -errno;
	if (connect(fd, (const struct sockaddr *)&sa, sizeof(sa)))
		e = -errno;
	close(fd);
	return e;
}

int cw_alert_journal_send_one(const struct cw_incident *inc)
{
	struct iovec v[10];
	size_t n = 0;
	char prio[16];
	int e;

	snprintf(prio, sizeof(prio), "%d", inc->priority >= 0 && inc->priority <= 7 ? inc->priority : 4);
	e = field(v, &n, "MESSAGE", inc->summary ? inc->summary : cw_incident_kind_name(inc->kind));
	e = e ?: field(v, &n, "PRIORITY", prio);
	e = e ?: field(v, &n, "SYSLOG_IDENTIFIER", "celerywatch");
	e = e ?: field(v, &n, "CELERYWATCH_KIND", cw_incident_kind_name(inc->kind));
	e = e ?: field(v, &n, "CELERYWATCH_QUEUE", inc->queue);
	e = e ?: field(v, &n, "CELERYWATCH_WORKER", inc->worker);
	e = e ?: field(v, &n, "CELERYWATCH_VERDICT", inc->verdict);
	e = e ?: field(v, &n, "CELERYWATCH_JSON", inc->json);
	if (!e)
		e = journal_listening();
	if (!e)
		e = sd_journal_sendv(v, (int)n);
	for (size_t i = 0; i < n; i++)
		free(v[i].iov_base);
	return e;
}

static void entry_free(struct entry *e)
{
	if (!e)
		return;
	for (size_t i = 0; i < sizeof(e->s) / sizeof(e->s[0]); i++)
		free(e->s[i]);
	free(e);
}

/* A copy of the strings into e->s[i], and inc's pointer to it; false on out of memory. */
static bool dup_str(struct entry *e, int i, const char **dst, const char *src)
{
	*dst = NULL;
	if (!src)
		return true;
	e->s[i] = strdup(src);
	*dst = e->s[i];
	return e->s[i] != NULL;
}

static struct entry *entry_copy(const struct cw_incident *inc)
{
	struct entry *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	e->inc = *inc;
	if (!dup_str(e, 0, &e->inc.queue, inc->queue) || !dup_str(e, 1, &e->inc.worker, inc->worker) ||
	    !dup_str(e, 2, &e->inc.verdict, inc->verdict) || !dup_str(e, 3, &e->inc.prev_verdict, inc->prev_verdict) ||
	    !dup_str(e, 4, &e->inc.summary, inc->summary) || !dup_str(e, 5, &e->inc.json, inc->json)) {
		entry_free(e);
		return NULL;
	}
	return e;
}

static void count(struct cw_alert_journal *j, int e)
{
	bool say;

	pthread_mutex_lock(&j->mu);
	if (e)
		j->st.failed++;
	else
		j->st.sent++;
	say = e && !j->said;
	j->said |= say;
	pthread_mutex_unlock(&j->mu);
	if (say)
		fprintf(stderr, "celerywatch: cannot send incidents to the systemd journal: %s (is journald "
			"running?); counted as journal_failed, said once\n", strerror(-e));
}

static void *run(void *arg)
{
	struct cw_alert_journal *j = arg;

	cw_thread_drop_caps();
	for (;;) {
		pthread_mutex_lock(&j->mu);
		while (!j->n && !j->stop)
			pthread_cond_wait(&j->cv, &j->mu);
		if (!j->n) {
			pthread_mutex_unlock(&j->mu);
			return NULL;
		}
		struct entry *e = j->q[j->head];
		j->q[j->head] = NULL;
		j->head = (j->head + 1) % CW_JOURNAL_QUEUE;
		j->n--;
		pthread_mutex_unlock(&j->mu);
		count(j, cw_alert_journal_send_one(&e->inc));
		entry_free(e);
	}
}

int cw_alert_journal_new(struct cw_alert_journal **out)
{
	struct cw_alert_journal *j = calloc(1, sizeof(*j));
	int e;

	if (!j)
		return -ENOMEM;
	pthread_mutex_init(&j->mu, NULL);
	pthread_cond_init(&j->cv, NULL);
	e = pthread_create(&j->th, NULL, run, j);
	if (e) {
		free(j);
		return -e;
	}
	*out = j;
	return 0;
}

void cw_alert_journal_incident(struct cw_alert_journal *j, const struct cw_incident *inc)
{
	struct entry *e = NULL;

	pthread_mutex_lock(&j->mu);
	if (j->n < CW_JOURNAL_QUEUE && !j->stop)
		e = entry_copy(inc);
	if (e) {
		j->q[(j->head + j->n++) % CW_JOURNAL_QUEUE] = e;
		pthread_cond_signal(&j->cv);
	} else {
		j->st.dropped++;
	}
	pthread_mutex_unlock(&j->mu);
}

void cw_alert_journal_stop(struct cw_alert_journal *j, uint64_t deadline_ns)
{
	uint64_t now = cw_clock_ns(CLOCK_MONOTONIC);
	uint64_t left = deadline_ns > now ? deadline_ns - now : 0;
	uint64_t until = cw_clock_ns(CLOCK_REALTIME) + left;
	struct timespec ts = {.tv_sec = (time_t)(until / 1000000000ull), .tv_nsec = (long)(until % 1000000000ull)};

	pthread_mutex_lock(&j->mu);
	j->stop = true;
	pthread_cond_signal(&j->cv);
	pthread_mutex_unlock(&j->mu);
	if (pthread_timedjoin_np(j->th, NULL, &ts) == 0) {
		j->th = 0;
		return;
	}
	/* What still waits is dropped; the thread ends after the send it is in, if ever. */
	pthread_mutex_lock(&j->mu);
	for (; j->n; j->n--, j->head = (j->head + 1) % CW_JOURNAL_QUEUE) {
		entry_free(j->q[j->head]);
		j->q[j->head] = NULL;
		j->st.dropped++;
	}
	pthread_mutex_unlock(&j->mu);
}

void cw_alert_journal_stats(struct cw_alert_journal *j, struct cw_alert_journal_stats *s)
{
	pthread_mutex_lock(&j->mu);
	*s = j->st;
	pthread_mutex_unlock(&j->mu);
}

/* A thread still stuck in a send keeps j: then it is left to the exit, like the writer. */
void cw_alert_journal_free(struct cw_alert_journal *j)
{
	if (!j || j->th)
		return;
	pthread_mutex_destroy(&j->mu);
	pthread_cond_destroy(&j->cv);
	free(j);
}
