/* sd_notify for `record`; see notify.h. */
#include "cli/notify.h"

#include <stdbool.h>
#include <systemd/sd-daemon.h>

void cw_notify_init(struct cw_notify *n)
{
	uint64_t us = 0;

	/* 0: do not unset $WATCHDOG_USEC, children of ours never see it anyway (no exec) */
	n->watchdog_us = sd_watchdog_enabled(0, &us) > 0 ? us : 0;
	n->last_ping_ns = 0;
}

void cw_notify_ready(const char *status)
{
	sd_notifyf(0, "READY=1\nSTATUS=%s", status);
}

void cw_notify_watchdog(struct cw_notify *n, uint64_t now_ns)
{
	/* systemd's advice: ping at half the interval at least; a quarter leaves room for a
	 * loop held up by a full second of work */
	if (!n->watchdog_us || now_ns - n->last_ping_ns < n->watchdog_us * 1000 / 4)
		return;
	sd_notify(0, "WATCHDOG=1");
	n->last_ping_ns = now_ns;
}

void cw_notify_stopping(void)
{
	sd_notify(0, "STOPPING=1");
}
