/* A json-c tree copied into the flat table, numbers with the text json-c prints for them. */
#include <string.h>

#include "log/jflat_jsonc.h"

static int copy(struct cw_jflat *f, json_object *v, int32_t parent, const char *key);

static int copy_children(struct cw_jflat *f, json_object *v, int32_t self)
{
	if (json_object_is_type(v, json_type_object)) {
		json_object_object_foreach(v, k, cv)
			if (copy(f, cv, self, k))
				return -1;
		return 0;
	}
	size_t len = json_object_array_length(v);
	for (size_t i = 0; i < len; i++)
		if (copy(f, json_object_array_get_idx(v, i), self, NULL))
			return -1;
	return 0;
}

static int copy(struct cw_jflat *f, json_object *v, int32_t parent, const char *key)
{
	static const int types[] = {
		[json_type_null] = CW_J_NULL, [json_type_boolean] = CW_J_BOOL,
		[json_type_double] = CW_J_DOUBLE, [json_type_int] = CW_J_INT,
		[json_type_object] = CW_J_OBJECT, [json_type_array] = CW_J_ARRAY,
		[json_type_string] = CW_J_STRING,
	};
	enum json_type jt = json_object_get_type(v);	/* NULL: json_type_null */
	int32_t i = cw_jflat_add(f, parent, key, key ? strlen(key) : 0, types[jt]);

	if (i < 0)
		return -1;
	switch (jt) {
	case json_type_boolean:
		f->n[i].b = json_object_get_boolean(v);
		return 0;
	case json_type_int:
	case json_type_double: {
		int32_t t = cw_jflat_str(f, json_object_to_json_string(v), strlen(json_object_to_json_string(v)));
		if (t < 0)
			return -1;
		f->n[i].text = t;
		if (jt == json_type_int)
			f->n[i].i = json_object_get_int64(v);
		else
			f->n[i].d = json_object_get_double(v);
		return 0;
	}
	case json_type_string: {
		int32_t s = cw_jflat_str(f, json_object_get_string(v), strlen(json_object_get_string(v)));
		if (s < 0)
			return -1;
		f->n[i].s = s;
		return 0;
	}
	case json_type_object:
	case json_type_array:
		return copy_children(f, v, i);
	default:
		return 0;
	}
}

int cw_jflat_from_jsonc(struct cw_jflat *f, json_object *o)
{
	cw_jflat_reset(f);
	return copy(f, o, -1, NULL);
}
