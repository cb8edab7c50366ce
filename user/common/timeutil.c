/* Clocks, RFC 3339 formatting and parsing (timegm does the calendar), relative times. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/timeutil.h"

uint64_t cw_clock_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

double cw_mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

void cw_format_ts(int64_t us, char *out, size_t outlen)
{
	int64_t sec = us >= 0 ? us / 1000000 : -((-us + 999999) / 1000000);
	long frac = (long)(us - sec * 1000000);
	time_t t = (time_t)sec;
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(out, outlen, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
}

void cw_format_ts_ns(uint64_t realtime_ns, char *out, size_t outlen)
{
	cw_format_ts((int64_t)(realtime_ns / 1000u), out, outlen);
}

static int digits(const char **p, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if ((*p)[i] < '0' || (*p)[i] > '9')
			return -1;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*out = v;
	return 0;
}

/* ".123456789" -> microseconds (digits past the sixth are dropped); p at the '.', moved on */
static int parse_fraction(const char **p, int *frac)
{
	int fdig = 0;

	*frac = 0;
	if (**p != '.')
		return 0;
	(*p)++;
	if (**p < '0' || **p > '9')
		return -1;
	for (; **p >= '0' && **p <= '9'; (*p)++) {
		if (fdig < 6) {
			*frac = *frac * 10 + (**p - '0');
			fdig++;
		}
	}
	for (; fdig < 6; fdig++)
		*frac *= 10;
	return 0;
}

/* "Z" or "+hh:mm"/"-hh:mm" -> seconds east of UTC */
static int parse_offset(const char **p, int64_t *off)
{
	int oh, om, sign = **p == '-' ? -1 : 1;

	*off = 0;
	if (**p == 'Z' || **p == 'z') {
		(*p)++;
		return 0;
	}
	if (**p != '+' && **p != '-')
		return -1;
	(*p)++;
	if (digits(p, 2, &oh) || *(*p)++ != ':' || digits(p, 2, &om) || oh > 23 || om > 59)
		return -1;
	*off = sign * (oh * 3600 + om * 60);
	return 0;
}

/* Days in month M (1-12) of year Y, Gregorian leap years: timegm would roll "Feb 31" over
 * into March instead of refusing it. */
static int month_days(int Y, int M)
{
	static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (Y % 4 == 0 && Y % 100 != 0) || Y % 400 == 0;

	return M == 2 && leap ? 29 : days[M - 1];
}

int cw_parse_ts(const char *s, int64_t *us)
{
	int Y, M, D, h, m, sec, frac;
	int64_t off;
	const char *p = s;

	if (!s || digits(&p, 4, &Y) || *p++ != '-' || digits(&p, 2, &M) || *p++ != '-' ||
	    digits(&p, 2, &D) || (*p != 'T' && *p != 't' && *p != ' '))
		return -1;
	p++;
	if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &m) || *p++ != ':' ||
	    digits(&p, 2, &sec))
		return -1;
	if (M < 1 || M > 12 || D < 1 || D > month_days(Y, M) || h > 23 || m > 59 || sec > 60)
		return -1;
	if (parse_fraction(&p, &frac) || parse_offset(&p, &off) || *p)
		return -1;
	struct tm tm = { .tm_year = Y - 1900, .tm_mon = M - 1, .tm_mday = D,
			 .tm_hour = h, .tm_min = m, .tm_sec = sec };
	int64_t t = (int64_t)timegm(&tm) - off;
	*us = t * 1000000 + frac;
	return 0;
}

/* A relative --since/--until reaches at most this far (about 2,700 years): now +- it stays
 * far inside int64 microseconds, whatever the clock says. */
#define MAX_RELATIVE_US (1e6 * 86400 * 1e6)

/* "s" (or nothing), "m"/"min", "h", "d" -> seconds per unit; 0 if unknown */
static double unit_seconds(const char *u)
{
	if (!strcmp(u, "s") || !*u)
		return 1;
	if (!strcmp(u, "m") || !strcmp(u, "min"))
		return 60;
	if (!strcmp(u, "h"))
		return 3600;
	if (!strcmp(u, "d"))
		return 86400;
	return 0;
}

static int parse_relative(const char *s, int64_t now_us, int64_t *us)
{
	char *end;

	/* a plain decimal number (an exponent allowed): not "inf", "nan", hex or spaces */
	if (!((s[1] >= '0' && s[1] <= '9') || s[1] == '.'))
		return -1;
	errno = 0;
	double v = strtod(s + 1, &end);
	if (end == s + 1 || v < 0 || strspn(s + 1, "0123456789.eE+-") < (size_t)(end - (s + 1)))
		return -1;
	if (errno == ERANGE || !isfinite(v))
		return -2;
	double mult = unit_seconds(end);
	if (!mult)
		return -1;
	double d = v * mult * 1e6;
	if (!(d <= MAX_RELATIVE_US))
		return -2;
	if (now_us < -((int64_t)1 << 62) || now_us > (int64_t)1 << 62)
		return -2;
	int64_t delta = (int64_t)d;	/* in range: checked above */
	*us = s[0] == '-' ? now_us - delta : now_us + delta;
	return 0;
}

int cw_parse_when(const char *s, int64_t now_us, int64_t *us)
{
	if (!s || !*s)
		return -1;
	if (s[0] == '-' || s[0] == '+')
		return parse_relative(s, now_us, us);
	if (!strcmp(s, "now")) {
		*us = now_us;
		return 0;
	}
	return cw_parse_ts(s, us);
}

void cw_fmt_clock(int64_t us, bool with_date, char *out, size_t len)
{
	time_t t = (time_t)(us / 1000000);
	struct tm tm;

	gmtime_r(&t, &tm);
	if (with_date)
		snprintf(out, len, "%04d-%02d-%02d %02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1,
			 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	else
		snprintf(out, len, "%02d:%02d:%02d", tm.tm_hour, tm.tm_min, tm.tm_sec);
}
