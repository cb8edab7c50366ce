/* `proc_sample` lines; see procfmt.h. */
#include "log/procfmt.h"

#include "log/eventlog.h"

static void conn_json(struct jw *w, const struct cw_pf_conn *c)
{
	jw_obj_begin(w, NULL);
	jw_str(w, "laddr", c->laddr);
	if (c->idle_s >= 0)
		jw_int(w, "idle_s", c->idle_s);
	else
		jw_null(w, "idle_s");
	jw_str(w, "cmd", c->cmd);
	jw_obj_end(w);
}

static void proc_json(struct jw *w, const struct cw_pf_broker *b, const struct cw_pf_proc *p)
{
	char state[2] = { p->state, '\0' };

	jw_obj_begin(w, NULL);
	jw_uint(w, "pid", p->pid);
	jw_uint(w, "pstart", p->pstart);
	jw_str(w, "state", state);
	jw_uint(w, "cpu_ticks", p->cpu_ticks);
	jw_uint(w, "ctxsw", p->ctxsw);
	if (p->wchan && p->wchan[0])
		jw_str(w, "wchan", p->wchan);
	if (p->syscall && p->syscall[0])
		jw_str(w, "syscall", p->syscall);
	if (b->conn_known && p->broker_conns >= 0)
		jw_int(w, "broker_conns", p->broker_conns);
	else
		jw_null(w, "broker_conns");
	if (b->client_list && p->nconns) {
		jw_arr_begin(w, "conns");
		for (size_t i = 0; i < p->nconns; i++)
			conn_json(w, &p->conns[i]);
		jw_arr_end(w);
	}
	jw_obj_end(w);
}

void cw_proc_sample_json(struct jw *w, uint64_t realtime_ns, uint32_t pid,
			 const struct cw_pf_broker *b, const struct cw_pf_proc *procs, size_t n,
			 size_t omitted)
{
	if (n > CW_PROC_SAMPLE_MAX) {
		omitted += n - CW_PROC_SAMPLE_MAX;
		n = CW_PROC_SAMPLE_MAX;
	}
	jw_reset(w);
	cw_line_begin(w, "proc_sample", realtime_ns, pid);
	jw_obj_begin(w, "broker");
	jw_str(w, "addr", b->addr);
	jw_bool(w, "conn_known", b->conn_known);
	jw_bool(w, "client_list", b->client_list);
	jw_obj_end(w);
	jw_arr_begin(w, "procs");
	for (size_t i = 0; i < n; i++)
		proc_json(w, b, &procs[i]);
	jw_arr_end(w);
	if (omitted)
		jw_uint(w, "procs_omitted", omitted);
	jw_end(w);
}
