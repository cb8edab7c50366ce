/* See incident.h. */
#include "engine/incident.h"

const char *cw_incident_kind_name(enum cw_incident_kind k)
{
	switch (k) {
	case CW_INC_DEATH: return "death";
	case CW_INC_VERDICT: return "verdict";
	case CW_INC_LOST: return "lost";
	case CW_INC_BROKER_DOWN: return "broker_down";
	case CW_INC_BROKER_UP: return "broker_up";
	}
	return "unknown";
}
