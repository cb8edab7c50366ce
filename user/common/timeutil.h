/* Time in one place: the clocks we read, RFC 3339 out and in, --since/--until values and
 * the short clock the reports print. All times are UTC. */
#ifndef CW_TIMEUTIL_H
#define CW_TIMEUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Nanoseconds of clk (CLOCK_REALTIME, CLOCK_BOOTTIME, CLOCK_MONOTONIC). */
uint64_t cw_clock_ns(clockid_t clk);
/* CLOCK_MONOTONIC in seconds, for timeouts and intervals. */
double cw_mono_s(void);

/* "2026-11-24T12:03:11.123456Z" (the event log's `ts`); us may be negative. */
void cw_format_ts(int64_t us, char *out, size_t outlen);
/* The same for a CLOCK_REALTIME value in nanoseconds. */
void cw_format_ts_ns(uint64_t realtime_ns, char *out, size_t outlen);
/*
 * RFC 3339 date-time ("T", "t" or " " between date and time, up to 6 fraction digits kept,
 * "Z" or +hh:mm) to microseconds since the epoch. Returns 0, or -1 when s is not one: also
 * for a day the month does not have (Feb 29 only in Gregorian leap years) and an offset past
 * 23:59. Second 60 (a leap second) is accepted and read as the next minute's start.
 */
int cw_parse_ts(const char *s, int64_t *us);
/*
 * A --since/--until value: RFC 3339, "now", or relative to now_us ("-1h", "+30m", "-2d",
 * "-90s", "-5" seconds). Returns 0, -1 when malformed, -2 when out of range.
 */
int cw_parse_when(const char *s, int64_t now_us, int64_t *us);

/* "12:03:11", or "2026-11-24 12:03:11" with_date. */
void cw_fmt_clock(int64_t us, bool with_date, char *out, size_t len);

#endif
