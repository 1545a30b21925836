/*
 * Method parameters by name, checked completely before any VM operation so
 * that bad input never changes state. Unknown keys are refused: a typo such
 * as "timeout" for "timeout_ms" must not silently use the default.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include "vmm/api/internal.h"

static const struct api_param *find_param(const struct api_param *spec, size_t n,
					   const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(spec[i].name, name) == 0)
			return &spec[i];
	return NULL;
}

static int parse_int(json_object *val, int64_t min, int64_t max, const struct api_param *p,
		     char *err, size_t errlen)
{
	int64_t v;

	if (!json_object_is_type(val, json_type_int)) {
		snprintf(err, errlen, "%s must be an integer", p->name);
		return -EINVAL;
	}
	/* Beyond int64 json-c saturates, which still falls outside max. */
	v = json_object_get_int64(val);
	if (v < min || v > max) {
		snprintf(err, errlen, "%s must be between %lld and %lld", p->name,
			 (long long)min, (long long)max);
		return -ERANGE;
	}
	*(int *)p->out = (int)v;
	return 0;
}

static int parse_one(const struct api_param *p, json_object *val, char *err, size_t errlen)
{
	switch (p->type) {
	case API_PARAM_UINT:
		return parse_int(val, 0, INT_MAX, p, err, errlen);
	case API_PARAM_TIMEOUT_MS:
		return parse_int(val, 1, API_MAX_TIMEOUT_MS, p, err, errlen);
	case API_PARAM_BOOL:
		if (!json_object_is_type(val, json_type_boolean)) {
			snprintf(err, errlen, "%s must be true or false", p->name);
			return -EINVAL;
		}
		*(bool *)p->out = json_object_get_boolean(val);
		return 0;
	}
	snprintf(err, errlen, "%s: unknown parameter type", p->name);
	return -EINVAL;
}

int api_params_parse(json_object *params, const struct api_param *spec, size_t n,
		     char *err, size_t errlen)
{
	const struct api_param *p;
	json_object *val;
	size_t i;
	int rc;

	if (params && !json_object_is_type(params, json_type_object)) {
		snprintf(err, errlen, "params must be an object (named parameters)");
		return -EINVAL;
	}
	if (params) {
		json_object_object_foreach(params, key, v) {
			(void)v;
			if (!find_param(spec, n, key)) {
				snprintf(err, errlen, "unknown parameter '%.64s'", key);
				return -EINVAL;
			}
		}
	}
	for (i = 0; i < n; i++) {
		p = &spec[i];
		if (!params || !json_object_object_get_ex(params, p->name, &val)) {
			if (p->required) {
				snprintf(err, errlen, "missing parameter '%s'", p->name);
				return -EINVAL;
			}
			continue;
		}
		rc = parse_one(p, val, err, errlen);
		if (rc)
			return rc;
	}
	return 0;
}
