/* The pictures of the --html report, as inline SVG: queue depth over time and worker lives. */
#ifndef CW_REPORT_CHART_H
#define CW_REPORT_CHART_H

#include <stdio.h>

#include "explain/report.h"

/* Both charts over the analysis window; -ENOMEM if the lives could not be laid out. */
int cw_html_charts(FILE *o, const struct cw_report_in *in);

#endif
