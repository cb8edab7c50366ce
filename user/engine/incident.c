/* The names of incident kinds (engine/incident.h), as alerts and reports spell them. */
#include "engine/incident.h"

const char *cw_incident_kind_name(enum cw_incident_kind k)
{
	static const char *const names[] = {
		[CW_INC_DEATH] = "death", [CW_INC_VERDICT] = "verdict", [CW_INC_LOST] = "lost",
		[CW_INC_BROKER_DOWN] = "broker_down", [CW_INC_BROKER_UP] = "broker_up",
	};

	if ((unsigned)k >= sizeof(names) / sizeof(names[0]) || !names[k])
		return "unknown";
	return names[k];
}
