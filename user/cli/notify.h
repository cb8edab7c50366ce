/* systemd's notification protocol for `record` run as a Type=notify service: READY=1 once
 * the programs are attached and the log is open, WATCHDOG=1 from the loop, STOPPING=1.
 * Outside systemd ($NOTIFY_SOCKET unset) every call does nothing. */
#ifndef CW_NOTIFY_H
#define CW_NOTIFY_H

#include <stdint.h>

struct cw_notify {
	uint64_t watchdog_us;	/* WatchdogSec= as $WATCHDOG_USEC says, 0 when off */
	uint64_t last_ping_ns;	/* CLOCK_MONOTONIC of the last WATCHDOG=1 */
};

void cw_notify_init(struct cw_notify *n);
void cw_notify_ready(const char *status);
/* WATCHDOG=1 at most every watchdog_us / 4; call it from the loop, never from a thread */
void cw_notify_watchdog(struct cw_notify *n, uint64_t now_ns);
void cw_notify_stopping(void);

#endif
