/* Who consumes: a worker MainProcess alive and connected to the broker when sampled. A
 * process is given --connect-grace after exec to connect (slow imports): `starting` until
 * then. Without connection facts (v1 logs, no broker address) alive is enough, as before. */
#include "explain/connect.h"

const char *cw_conn_name(enum cw_conn c)
{
	switch (c) {
	case CW_CONN_YES: return "connected";
	case CW_CONN_STARTING: return "starting";
	case CW_CONN_NO: return "not_connected";
	default: return "unknown";
	}
}

enum cw_conn cw_conn_at(const struct cw_tproc *p, int64_t t, int64_t grace)
{
	const struct cw_pfacts *f = &p->pf;

	if (f->conn_known_last == CW_NONE)
		return CW_CONN_UNKNOWN;
	if (f->conn_first != CW_NONE) {
		/* a broker restart drops every connection for a moment: grace again */
		if (f->unconn_since != CW_NONE && t - f->unconn_since > grace)
			return CW_CONN_NO;
		return CW_CONN_YES;
	}
	if (t - p->start_ts <= grace)
		return CW_CONN_STARTING;
	/* seen after its grace and never connected; facts that stopped before: unknown */
	return f->conn_known_last >= p->start_ts + grace ? CW_CONN_NO : CW_CONN_UNKNOWN;
}

bool cw_consuming_span(const struct cw_tproc *p, int64_t to, int64_t grace, int64_t *from,
		       int64_t *until)
{
	const struct cw_pfacts *f = &p->pf;
	int64_t e = cw_tproc_live_end(p);

	*from = p->start_ts;
	*until = e == CW_NONE ? INT64_MAX : e;
	if (f->conn_known_last == CW_NONE)
		return true;
	if (f->conn_first == CW_NONE)	/* never connected: only its grace, if still in it */
		return cw_conn_at(p, e == CW_NONE ? to : e, grace) != CW_CONN_NO;
	if (f->conn_first > p->start_ts + grace)
		*from = f->conn_first;	/* late: not a consumer before it connected */
	int64_t seen_to = e == CW_NONE ? to : e;
	if (f->unconn_since != CW_NONE && seen_to - f->unconn_since > grace)
		*until = f->unconn_since;
	return *until >= *from;
}
